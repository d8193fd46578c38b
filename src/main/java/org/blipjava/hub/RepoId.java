package org.blipjava.hub;

import java.util.regex.Pattern;

/**
 * A Hub model repository id, {@code org/name} (or a bare legacy {@code name}), validated with the
 * Hub's rules: letters, digits, {@code - _ .}; no {@code --} or {@code ..}; parts neither start
 * nor end with {@code -} or {@code .}; at most 96 characters; not ending in {@code .git}.
 *
 * @param id the id as given, e.g. {@code Salesforce/blip-vqa-base}
 */
public record RepoId(String id) {
    private static final int MAX_LENGTH = 96;
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?");

    public RepoId {
        String problem = problem(id);
        if (problem != null) {
            throw new ModelNotFoundException("'" + id + "' is not a valid Hub repository id: " + problem
                    + "; use org/name (letters, digits, '-', '_', '.'), or pass a local model directory");
        }
    }

    /** Why {@code id} is not a valid repository id, or null when it is. */
    static String problem(String id) {
        if (id == null || id.isEmpty()) {
            return "it is empty";
        }
        if (id.length() > MAX_LENGTH) {
            return "it is longer than " + MAX_LENGTH + " characters";
        }
        if (id.contains("--") || id.contains("..")) {
            return "'--' and '..' are not allowed";
        }
        if (id.endsWith(".git")) {
            return "it ends with '.git'";
        }
        String[] parts = id.split("/", -1);
        if (parts.length > 2) {
            return "it has more than one '/'";
        }
        for (String part : parts) {
            if (!PART.matcher(part).matches()) {
                return "'" + part + "' must be letters, digits, '-', '_' or '.', not starting or ending with '-' or '.'";
            }
        }
        return null;
    }

    /** The folder of this repository in the Hub cache: {@code models--org--name}. */
    public String cacheFolderName() {
        return "models--" + id.replace("/", "--");
    }

    @Override
    public String toString() {
        return id;
    }
}
