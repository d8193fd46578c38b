package org.blipjava.tasks;

/** A request the loaded model cannot serve (wrong head for the task, a prompt that is too long). */
public class TaskException extends RuntimeException {
    /** How many characters of a user's text an error message repeats. */
    static final int QUOTED_CHARACTERS = 80;

    public TaskException(String message) {
        super(message);
    }

    /**
     * A user's text (a prompt, a question) quoted for an error message: whole when short, else
     * its first {@value #QUOTED_CHARACTERS} characters and its length, {@code "a b c..." (25000
     * characters)}, so that a pasted page does not fill the terminal. Line breaks and other
     * control characters become spaces, keeping the message on one line.
     */
    public static String quote(String text) {
        int length = text.codePointCount(0, text.length());
        String shown = length <= QUOTED_CHARACTERS ? text
                : text.substring(0, text.offsetByCodePoints(0, QUOTED_CHARACTERS)) + "...";
        StringBuilder out = new StringBuilder(shown.length() + 32).append('"');
        shown.codePoints().forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? ' ' : c));
        out.append('"');
        if (length > QUOTED_CHARACTERS) {
            out.append(" (").append(length).append(" characters)");
        }
        return out.toString();
    }
}
