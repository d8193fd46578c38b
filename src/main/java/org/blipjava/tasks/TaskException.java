package org.blipjava.tasks;

/** A request the loaded model cannot serve (wrong head for the task, a prompt that is too long). */
public class TaskException extends RuntimeException {
    public TaskException(String message) {
        super(message);
    }
}
