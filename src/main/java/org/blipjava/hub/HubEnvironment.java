package org.blipjava.hub;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Where and how the Hub is used: the same settings as the Python {@code huggingface_hub} library,
 * so both share one cache.
 *
 * @param cacheDir the Hub cache ({@code HF_HUB_CACHE}), holding {@code models--org--name} folders
 * @param token an access token sent as {@code Authorization: Bearer}, or null for none
 * @param endpoint the Hub's base URL ({@code HF_ENDPOINT}), without a trailing slash
 * @param offline true to never contact the Hub ({@code HF_HUB_OFFLINE=1})
 */
public record HubEnvironment(Path cacheDir, String token, URI endpoint, boolean offline) {
    /** The public Hub. */
    public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");

    // The values huggingface_hub's environment parsing accepts as true.
    private static final Set<String> TRUE_VALUES = Set.of("1", "ON", "YES", "TRUE");

    public HubEnvironment {
        Objects.requireNonNull(cacheDir, "cacheDir");
        Objects.requireNonNull(endpoint, "endpoint");
        cacheDir = cacheDir.toAbsolutePath().normalize();
        if (token != null) {
            token = token.strip();
            if (token.isEmpty()) {
                token = null;
            }
        }
        endpoint = checkEndpoint(endpoint);
    }

    /** Reads the process environment (see {@link #fromVariables}). */
    public static HubEnvironment fromSystem() {
        return fromVariables(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /**
     * Reads the Hub settings from environment variables the way {@code huggingface_hub} does:
     * {@code HF_HOME} (default {@code $XDG_CACHE_HOME/huggingface} or
     * {@code ~/.cache/huggingface}), {@code HF_HUB_CACHE} (default {@code $HF_HOME/hub}),
     * {@code HF_TOKEN} (else the file {@code HF_TOKEN_PATH}, default {@code $HF_HOME/token}),
     * {@code HF_ENDPOINT} and {@code HF_HUB_OFFLINE}. The older names
     * {@code HUGGINGFACE_HUB_CACHE} and {@code HUGGING_FACE_HUB_TOKEN} are honoured as fallbacks.
     *
     * @param env the variables
     * @param userHome the directory {@code ~} stands for
     */
    public static HubEnvironment fromVariables(Map<String, String> env, Path userHome) {
        Path hfHome;
        if (isSet(env, "HF_HOME")) {
            hfHome = expandHome(env.get("HF_HOME"), userHome);
        } else if (isSet(env, "XDG_CACHE_HOME")) {
            hfHome = expandHome(env.get("XDG_CACHE_HOME"), userHome).resolve("huggingface");
        } else {
            hfHome = userHome.resolve(".cache").resolve("huggingface");
        }
        Path cache;
        if (isSet(env, "HF_HUB_CACHE")) {
            cache = expandHome(env.get("HF_HUB_CACHE"), userHome);
        } else if (isSet(env, "HUGGINGFACE_HUB_CACHE")) {
            cache = expandHome(env.get("HUGGINGFACE_HUB_CACHE"), userHome);
        } else {
            cache = hfHome.resolve("hub");
        }
        String token = null;
        if (isSet(env, "HF_TOKEN")) {
            token = env.get("HF_TOKEN");
        } else if (isSet(env, "HUGGING_FACE_HUB_TOKEN")) {
            token = env.get("HUGGING_FACE_HUB_TOKEN");
        } else {
            Path tokenFile = isSet(env, "HF_TOKEN_PATH")
                    ? expandHome(env.get("HF_TOKEN_PATH"), userHome)
                    : hfHome.resolve("token");
            token = readTokenFile(tokenFile);
        }
        URI endpoint = DEFAULT_ENDPOINT;
        if (isSet(env, "HF_ENDPOINT")) {
            try {
                endpoint = new URI(env.get("HF_ENDPOINT").strip());
            } catch (URISyntaxException e) {
                throw new HubException("HF_ENDPOINT is not a valid URL (" + e.getMessage()
                        + "); set it to the Hub's base URL such as https://huggingface.co, or unset it");
            }
        }
        boolean offline = isSet(env, "HF_HUB_OFFLINE")
                && TRUE_VALUES.contains(env.get("HF_HUB_OFFLINE").strip().toUpperCase(Locale.ROOT));
        return new HubEnvironment(cache, token, endpoint, offline);
    }

    /** This environment with offline mode switched on or off. */
    public HubEnvironment withOffline(boolean newOffline) {
        return new HubEnvironment(cacheDir, token, endpoint, newOffline);
    }

    /** This environment with another token (null for none). */
    public HubEnvironment withToken(String newToken) {
        return new HubEnvironment(cacheDir, newToken, endpoint, offline);
    }

    /** Never prints the token itself. */
    @Override
    public String toString() {
        return "HubEnvironment[cacheDir=" + cacheDir + ", token=" + (token == null ? "none" : "set")
                + ", endpoint=" + endpoint + ", offline=" + offline + "]";
    }

    private static boolean isSet(Map<String, String> env, String name) {
        String v = env.get(name);
        return v != null && !v.isBlank();
    }

    private static Path expandHome(String value, Path userHome) {
        String v = value.strip();
        if (v.equals("~")) {
            return userHome;
        }
        if (v.startsWith("~/") || v.startsWith("~\\")) {
            return userHome.resolve(v.substring(2));
        }
        return Path.of(v);
    }

    private static String readTokenFile(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            String t = Files.readString(file, StandardCharsets.UTF_8).strip();
            return t.isEmpty() ? null : t;
        } catch (IOException e) {
            // An unreadable token file means "no token", as in huggingface_hub; public repos still work.
            return null;
        }
    }

    private static URI checkEndpoint(URI endpoint) {
        String scheme = endpoint.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
                || endpoint.getHost() == null) {
            throw new HubException("HF_ENDPOINT '" + endpoint
                    + "' is not an http(s) URL with a host; set it to the Hub's base URL such as "
                    + "https://huggingface.co, or unset it");
        }
        String s = endpoint.toString();
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return URI.create(s);
    }
}
