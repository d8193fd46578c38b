package org.blipjava.tokenizer;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The strings that fill the special-token roles (null where a role is unset).
 *
 * @param additional the additional special tokens, in file order ({@code [ENC]} for BLIP)
 */
record SpecialTokens(String bos, String eos, String unk, String sep, String pad, String cls, String mask,
        List<String> additional) {

    SpecialTokens {
        additional = List.copyOf(additional);
    }

    /** BERT's defaults; no bos/eos and no additional tokens. */
    static SpecialTokens bertDefaults() {
        return new SpecialTokens(null, null, "[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]", List.of());
    }

    /** Every special token, de-duplicated, in the reference's role order (bos, eos, unk, sep, pad, cls, mask, additional). */
    List<String> all() {
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (String s : new String[] {bos, eos, unk, sep, pad, cls, mask}) {
            if (s != null) {
                out.add(s);
            }
        }
        out.addAll(additional);
        return List.copyOf(new ArrayList<>(out));
    }

    /** A copy with one role replaced; {@code role} is the reference's key ("bos_token", ...). */
    SpecialTokens with(String role, String value) {
        return switch (role) {
            case "bos_token" -> new SpecialTokens(value, eos, unk, sep, pad, cls, mask, additional);
            case "eos_token" -> new SpecialTokens(bos, value, unk, sep, pad, cls, mask, additional);
            case "unk_token" -> new SpecialTokens(bos, eos, value, sep, pad, cls, mask, additional);
            case "sep_token" -> new SpecialTokens(bos, eos, unk, value, pad, cls, mask, additional);
            case "pad_token" -> new SpecialTokens(bos, eos, unk, sep, value, cls, mask, additional);
            case "cls_token" -> new SpecialTokens(bos, eos, unk, sep, pad, value, mask, additional);
            case "mask_token" -> new SpecialTokens(bos, eos, unk, sep, pad, cls, value, additional);
            default -> throw new IllegalArgumentException("unknown special token role " + role);
        };
    }

    /** A copy with the additional special tokens replaced. */
    SpecialTokens withAdditional(List<String> value) {
        return new SpecialTokens(bos, eos, unk, sep, pad, cls, mask, value);
    }

    /** The single-token role keys, as they appear in tokenizer_config.json and special_tokens_map.json. */
    static final List<String> ROLES = List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
            "cls_token", "mask_token");
}
