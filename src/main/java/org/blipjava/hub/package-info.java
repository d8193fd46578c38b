/**
 * Hugging Face Hub access: {@link org.blipjava.hub.ModelLocator} resolves a model argument (a local
 * directory or an {@code org/name} repository id) to a directory, using and filling the standard
 * Hub cache shared with Python's {@code huggingface_hub}, with resumable, verified downloads.
 */
package org.blipjava.hub;
