package org.blipjava.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.blipjava.retrieval.SearchHit;
import org.blipjava.tasks.GeneratedText;

/**
 * The JSON shapes of results, shared by the command line's {@code --json} output and the HTTP
 * API so that both name and lay out every field the same way ({@code caption}, {@code answer},
 * {@code token_ids}, {@code score}, {@code sequences}, {@code itm}, {@code itc}, {@code embedding},
 * search hits).
 */
public final class ResultJson {
    private ResultJson() {}

    /**
     * Puts one input's generated texts into {@code node}: the first under {@code field} with its
     * {@code token_ids} (and beam {@code score}); with several return sequences all of them under
     * {@code sequences} as well.
     *
     * @param field {@code caption} or {@code answer}
     * @param mine  the input's sequences, at least one
     */
    public static void generated(ObjectNode node, String field, List<GeneratedText> mine) {
        put(node, field, mine.get(0));
        if (mine.size() > 1) {
            ArrayNode seqs = node.putArray("sequences");
            for (GeneratedText t : mine) {
                put(seqs.addObject(), field, t);
            }
        }
    }

    private static void put(ObjectNode node, String field, GeneratedText t) {
        node.put(field, t.text());
        ArrayNode ids = node.putArray("token_ids");
        for (int id : t.tokenIds()) {
            ids.add(id);
        }
        if (!Double.isNaN(t.score())) {
            node.put("score", t.score());
        }
    }

    /** One image-text score: {@code itm} when the model has a matching head ({@code itm} not null), and {@code itc}. */
    public static void scores(ObjectNode node, Float itm, float itc) {
        if (itm != null) {
            node.put("itm", itm);
        }
        node.put("itc", itc);
    }

    /** An embedding as a JSON array of its components. */
    public static void embedding(ObjectNode node, float[] v) {
        ArrayNode e = node.putArray("embedding");
        for (float x : v) {
            e.add(x);
        }
    }

    /** Search hits, best first, with their 1-based rank, path, ITC cosine and, when re-ranked or captioned, ITM and caption. */
    public static ArrayNode hits(List<SearchHit> hits) {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        int rank = 1;
        for (SearchHit h : hits) {
            ObjectNode o = out.addObject();
            o.put("rank", rank++).put("path", h.path()).put("itc", h.itc());
            if (h.reranked()) {
                o.put("itm", h.itm());
            }
            if (h.caption() != null) {
                o.put("caption", h.caption());
            }
        }
        return out;
    }
}
