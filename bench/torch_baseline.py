#!/usr/bin/env python3
"""PyTorch baseline for `blip bench --torch`.

BLIP's forward passes as transformers 4.40 runs them (ViT vision tower; BERT text transformer
with cross-attention; greedy and beam search), and CLIP's image embeddings (CLIPModel's vision
tower, visual_projection, L2 normalization), written in plain torch because transformers is not
installed: the same shapes, the same operations, random weights. Like the reference, the
decoder caches self-attention keys/values and recomputes the cross-attention keys/values over
every image token at each step, and ITM repeats the image embedding once per text.

Two ways to run it:

- alone: runs every workload `--repeat` times and prints one JSON object on stdout,
  {"metrics": {key: [seconds or rate per run]}, "notes": [...]};
- `--serve` (what `blip bench --torch` uses): prints {"ready": true, "notes": [...]}, then reads
  one JSON request per line on stdin, {"op": NAME}, runs that workload once and answers one
  line, {"op": NAME, "value": SECONDS} (or MB for the memory ops, or {"error": ...}). The Java
  benchmark alternates these runs with its own, so both sides are timed in the same moments of a
  shared machine.

Progress goes to stderr.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn.functional as F


def log(msg):
    print("torch: " + msg, file=sys.stderr, flush=True)


class Weights:
    def __init__(self, seed):
        self.gen = torch.Generator().manual_seed(seed)

    def rand(self, *shape):
        # Uniform with standard deviation 0.02, as the Java benchmark's weights.
        return (torch.rand(*shape, generator=self.gen) * 2 - 1) * (0.02 * math.sqrt(3))

    def linear(self, n_in, n_out):
        return (self.rand(n_out, n_in), self.rand(n_out))

    def norm(self, d):
        return (torch.ones(d), torch.zeros(d))


def lin(x, wb):
    return F.linear(x, wb[0], wb[1])


def ln(x, wb, eps):
    return F.layer_norm(x, (x.shape[-1],), wb[0], wb[1], eps)


def heads(x, h):
    b, n, d = x.shape
    return x.view(b, n, h, d // h).transpose(1, 2)


def merge(x):
    b, h, n, hd = x.shape
    return x.transpose(1, 2).reshape(b, n, h * hd)


class Vision:
    def __init__(self, w, s):
        d, p = s["vision_width"], s["patch"]
        self.s = s
        self.patch_w = w.rand(d, 3, p, p)
        self.patch_b = w.rand(d)
        self.cls = w.rand(1, 1, d)
        n = (s["image"] // p) ** 2 + 1
        self.pos = w.rand(1, n, d)
        self.layers = []
        for _ in range(s["vision_layers"]):
            self.layers.append(dict(ln1=w.norm(d), qkv=w.linear(d, 3 * d), proj=w.linear(d, d), ln2=w.norm(d),
                                    fc1=w.linear(d, s["vision_inter"]), fc2=w.linear(s["vision_inter"], d)))
        self.post = w.norm(d)

    def __call__(self, pixels):
        s = self.s
        h = s["vision_heads"]
        x = F.conv2d(pixels, self.patch_w, self.patch_b, stride=s["patch"]).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        b, n, d = x.shape
        scale = (d // h) ** -0.5
        for L in self.layers:
            y = ln(x, L["ln1"], 1e-5)
            qkv = lin(y, L["qkv"]).reshape(b, n, 3, h, d // h).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            probs = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * scale, dim=-1)
            x = x + lin(merge(torch.matmul(probs, v)), L["proj"])
            x = x + lin(F.gelu(lin(ln(x, L["ln2"], 1e-5), L["fc1"])), L["fc2"])
        return ln(x, self.post, 1e-5)


class ClipVision:
    """CLIPModel.get_image_features as transformers 4.40 runs it, then L2-normalized as
    CLIPModel.forward does: patch convolution without bias, class token, positions, pre_layrnorm,
    pre-norm blocks with separate q/k/v projections (the query scaled before the product),
    post_layernorm of the class token, visual_projection without bias."""

    def __init__(self, w, s):
        d, p = s["clip_vision_width"], s["clip_patch"]
        self.s = s
        self.patch_w = w.rand(d, 3, p, p)
        self.cls = w.rand(d)
        n = (s["clip_image"] // p) ** 2 + 1
        self.pos = w.rand(n, d)
        self.pre = w.norm(d)
        self.layers = []
        for _ in range(s["clip_vision_layers"]):
            self.layers.append(dict(ln1=w.norm(d), q=w.linear(d, d), k=w.linear(d, d), v=w.linear(d, d),
                                    o=w.linear(d, d), ln2=w.norm(d), fc1=w.linear(d, s["clip_vision_inter"]),
                                    fc2=w.linear(s["clip_vision_inter"], d)))
        self.post = w.norm(d)
        self.proj = w.rand(s["clip_projection"], d)
        act = s["clip_act"]
        if act == "quick_gelu":
            self.act = lambda x: x * torch.sigmoid(1.702 * x)
        elif act == "gelu":
            self.act = F.gelu
        else:
            raise ValueError("unsupported CLIP hidden_act %r" % act)

    def __call__(self, pixels):
        s = self.s
        h, eps = s["clip_vision_heads"], s["clip_eps"]
        x = F.conv2d(pixels, self.patch_w, stride=s["clip_patch"]).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], 1, -1), x], dim=1) + self.pos
        x = ln(x, self.pre, eps)
        b, n, d = x.shape
        scale = (d // h) ** -0.5
        for L in self.layers:
            y = ln(x, L["ln1"], eps)
            q = heads(lin(y, L["q"]) * scale, h)
            probs = torch.softmax(torch.matmul(q, heads(lin(y, L["k"]), h).transpose(-1, -2)), dim=-1)
            x = x + lin(merge(torch.matmul(probs, heads(lin(y, L["v"]), h))), L["o"])
            x = x + lin(self.act(lin(ln(x, L["ln2"], eps), L["fc1"])), L["fc2"])
        pooled = ln(x[:, 0, :], self.post, eps)
        return F.normalize(F.linear(pooled, self.proj), dim=-1)


def clip_text_weights(w, s):
    """CLIPModel's text tower and text_projection, held and never run, so that this process holds
    the whole model as the Java side's CLIPModel does (the memory figures compare like with like)."""
    d, inter = s["clip_text_width"], s["clip_text_inter"]
    layers = [dict(ln1=w.norm(d), q=w.linear(d, d), k=w.linear(d, d), v=w.linear(d, d), o=w.linear(d, d),
                   ln2=w.norm(d), fc1=w.linear(d, inter), fc2=w.linear(inter, d))
              for _ in range(s["clip_text_layers"])]
    return dict(token=w.rand(s["clip_vocab"], d), pos=w.rand(s["clip_text_positions"], d), layers=layers,
                final=w.norm(d), proj=w.rand(s["clip_projection"], d))


class Text:
    def __init__(self, w, s, lm_head):
        d, inter, enc = s["text_width"], s["text_inter"], s["vision_width"]
        self.s = s
        self.word = w.rand(s["vocab"], d)
        self.pos = w.rand(s["max_positions"], d)
        self.emb_ln = w.norm(d)
        self.layers = []
        for _ in range(s["text_layers"]):
            self.layers.append(dict(
                q=w.linear(d, d), k=w.linear(d, d), v=w.linear(d, d), o=w.linear(d, d), ln=w.norm(d),
                cq=w.linear(d, d), ck=w.linear(enc, d), cv=w.linear(enc, d), co=w.linear(d, d), cln=w.norm(d),
                inter=w.linear(d, inter), out=w.linear(inter, d), oln=w.norm(d)))
        if lm_head:
            self.transform = w.linear(d, d)
            self.transform_ln = w.norm(d)
            self.lm_bias = w.rand(s["vocab"])

    def attend(self, q, k, v, mask):
        hd = q.shape[-1]
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd)
        if mask is not None:
            scores = scores + mask
        return torch.matmul(torch.softmax(scores, dim=-1), v)

    def forward(self, ids, start=0, past=None, enc=None, causal=False):
        """ids [b, n]; past: per-layer (k, v) of earlier positions; returns hidden and the new past."""
        s = self.s
        h = s["text_heads"]
        eps = 1e-12
        b, n = ids.shape
        x = ln(self.word[ids] + self.pos[start:start + n], self.emb_ln, eps)
        mask = None
        if causal and n > 1:
            total = start + n
            keep = torch.ones(n, total).tril(diagonal=start)
            mask = (1.0 - keep) * -10000.0
        new_past = []
        for i, L in enumerate(self.layers):
            k = heads(lin(x, L["k"]), h)
            v = heads(lin(x, L["v"]), h)
            if past is not None:
                k = torch.cat([past[i][0], k], dim=2)
                v = torch.cat([past[i][1], v], dim=2)
            new_past.append((k, v))
            ctx = merge(self.attend(heads(lin(x, L["q"]), h), k, v, mask))
            x = ln(lin(ctx, L["o"]) + x, L["ln"], eps)
            if enc is not None:
                # transformers 4.40 BlipTextSelfAttention: cross keys/values from the image at every call.
                ck = heads(lin(enc, L["ck"]), h)
                cv = heads(lin(enc, L["cv"]), h)
                ctx = merge(self.attend(heads(lin(x, L["cq"]), h), ck, cv, None))
                x = ln(lin(ctx, L["co"]) + x, L["cln"], eps)
            x = ln(lin(F.gelu(lin(x, L["inter"])), L["out"]) + x, L["oln"], eps)
        return x, new_past

    def logits(self, hidden):
        t = ln(F.gelu(lin(hidden, self.transform)), self.transform_ln, 1e-12)
        return F.linear(t, self.word, self.lm_bias)


def generate(text, image_embeds, s, beams):
    """Forced-length generation from [DEC] as transformers' generate with min_new_tokens = max_new_tokens."""
    steps, bos, sep = s["caption_tokens"], 30522, 102
    enc = image_embeds.repeat_interleave(beams, dim=0)
    ids = torch.full((beams, 1), bos, dtype=torch.long)
    scores = torch.zeros(beams)
    scores[1:] = -1e9
    past = None
    start = 0
    tokens = ids
    for _ in range(steps):
        hidden, past = text.forward(tokens, start=start, past=past, enc=enc, causal=True)
        start += tokens.shape[1]
        logits = text.logits(hidden[:, -1, :])
        logits[:, sep] = -float("inf")  # MinNewTokensLengthLogitsProcessor
        if beams == 1:
            tokens = logits.argmax(dim=-1, keepdim=True)
        else:
            vocab = logits.shape[-1]
            total = (torch.log_softmax(logits, dim=-1) + scores[:, None]).view(-1)
            top, idx = torch.topk(total, 2 * beams)
            src = idx[:beams] // vocab
            scores = top[:beams]
            tokens = (idx[:beams] % vocab).unsqueeze(1)
            past = [(k.index_select(0, src), v.index_select(0, src)) for k, v in past]
            ids = ids.index_select(0, src)
        ids = torch.cat([ids, tokens], dim=1)
    return ids


def peak_rss_mb():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child of a large JVM would
    # report the JVM's peak.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def blas_in_use():
    """The BLAS libraries this process has mapped. Debian's torch is built against the generic
    libblas.so.3, so which BLAS runs is the system's alternative: with only libblas3 installed it
    is the reference implementation, some 30 times slower than OpenBLAS at these products."""
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f
                            if line.rstrip().endswith(".so") or ".so." in line.split()[-1]})
    except OSError:
        paths = []
    libs = [p for p in paths if any(k in p.rsplit("/", 1)[-1].lower() for k in ("blas", "mkl", "blis"))]
    if not libs:
        return "unknown (see torch.__config__.show())"
    text = ", ".join(libs)
    if any(p.endswith("/blas/libblas.so.3") for p in libs) and not any("openblas" in p for p in libs):
        text += " (the reference BLAS, slow: install libopenblas0-pthread)"
    return text


def random_texts(gen, count, length, vocab):
    ids = torch.randint(1000, min(vocab, 30000), (count, length), generator=gen)
    ids[:, 0] = 101
    ids[:, -1] = 102
    return ids


class Workloads:
    """The benchmark's workloads; the models are built on first use, and the captioning decoder is
    dropped before the retrieval encoder is built, as the Java benchmark does."""

    def __init__(self, s, seed):
        self.s = s
        self.w = Weights(seed)
        log("building vision tower")
        self.vision = Vision(self.w, s)
        size = s["image"]
        self.pixels = torch.randn(1, 3, size, size, generator=self.w.gen)
        self.decoder = None
        self.encoder = None
        self.clip = None

    def _decoder(self):
        if self.decoder is None:
            if self.encoder is not None:
                raise ValueError("captioning ops must come before the retrieval ops")
            log("building captioning decoder")
            self.decoder = Text(self.w, self.s, lm_head=True)
        return self.decoder

    def _encoder(self):
        if self.encoder is None:
            self.decoder = None
            log("building retrieval encoder")
            s = self.s
            self.encoder = Text(self.w, s, lm_head=False)
            self.itm_head = self.w.linear(s["text_width"], 2)
            self.text_proj = self.w.linear(s["text_width"], s["embed"])
            self.itm_ids = random_texts(self.w.gen, s["itm_texts"], s["text_len"], s["vocab"])
            self.itc_ids = random_texts(self.w.gen, s["itc_texts"], s["text_len"], s["vocab"])
        return self.encoder

    def _clip(self):
        if self.clip is None:
            # The Java benchmark has dropped its BLIP models by now; so does this one.
            self.decoder = None
            self.encoder = None
            log("building CLIP vision tower")
            s = self.s
            self.clip = ClipVision(self.w, s)
            self.clip_text = clip_text_weights(self.w, s)
            size = s["clip_image"]
            self.clip_pixels = torch.randn(s["clip_batch"], 3, size, size, generator=self.w.gen)
        return self.clip

    def clip_images(self):
        return self._clip()(self.clip_pixels)

    def caption(self, beams):
        decoder = self._decoder()
        return generate(decoder, self.vision(self.pixels), self.s, beams)

    def vision_batch(self, batch):
        return self.vision(self.pixels.expand(batch, -1, -1, -1).contiguous())

    def itm(self):
        encoder = self._encoder()
        emb = self.vision(self.pixels)
        hidden, _ = encoder.forward(self.itm_ids, enc=emb.expand(self.itm_ids.shape[0], -1, -1))
        return lin(hidden[:, 0, :], self.itm_head)

    def itc(self):
        encoder = self._encoder()
        hidden, _ = encoder.forward(self.itc_ids)
        return F.normalize(lin(hidden[:, 0, :], self.text_proj), dim=-1)

    def timed_ops(self):
        """Op name -> function run once per timing (its seconds are the op's value)."""
        s = self.s
        ops = {
            "caption_greedy": lambda: self.caption(1),
            "caption_beam": lambda: self.caption(s["beams"]),
            "vision_b1": lambda: self.vision_batch(1),
            "itm": self.itm,
            "itc": self.itc,
        }
        ops["vision_b%d" % s["vision_batch"]] = lambda: self.vision_batch(s["vision_batch"])
        ops["clip_image_b%d" % s["clip_batch"]] = self.clip_images
        return ops


def once(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def serve(work, notes):
    ops = work.timed_ops()
    print(json.dumps({"ready": True, "notes": notes}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        op = json.loads(line).get("op")
        try:
            if op == "quit":
                break
            if op == "peak_rss_mb":
                value = peak_rss_mb()
            elif op in ops:
                value = once(ops[op])
            else:
                raise ValueError("unknown op %r; known: %s" % (op, ", ".join(sorted(ops) + ["peak_rss_mb", "quit"])))
            print(json.dumps({"op": op, "value": value}), flush=True)
        except Exception as e:  # reported to the Java side, which names the op
            print(json.dumps({"op": op, "error": "%s: %s" % (type(e).__name__, e)}), flush=True)


def run_all(work, repeat, notes):
    s = work.s
    ops = work.timed_ops()

    def timed(name):
        log(name)
        ops[name]()
        return [once(ops[name]) for _ in range(repeat)]

    metrics = {}
    metrics["caption_greedy_s"] = timed("caption_greedy")
    metrics["caption_beam_s"] = timed("caption_beam")
    metrics["peak_rss_caption_mb"] = [peak_rss_mb()]
    for batch in (1, s["vision_batch"]):
        metrics["vision_b%d_s_per_image" % batch] = [t / batch for t in timed("vision_b%d" % batch)]
    metrics["itm_s"] = timed("itm")
    metrics["itc_texts_per_s"] = [s["itc_texts"] / t for t in timed("itc")]
    metrics["clip_images_per_s"] = [s["clip_batch"] / t for t in timed("clip_image_b%d" % s["clip_batch"])]
    metrics["peak_rss_mb"] = [peak_rss_mb()]
    print(json.dumps({"metrics": metrics, "notes": notes}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shapes", required=True, help="JSON object with the model shapes and workloads")
    ap.add_argument("--serve", action="store_true", help="answer one timing request per stdin line")
    a = ap.parse_args()
    s = json.loads(a.shapes)
    torch.set_num_threads(a.threads)
    torch.set_grad_enabled(False)
    torch.manual_seed(a.seed)
    notes = ["PyTorch %s, %d threads, BLAS: %s" % (torch.__version__, torch.get_num_threads(), blas_in_use())]
    work = Workloads(s, a.seed)
    if a.serve:
        serve(work, notes)
    else:
        run_all(work, a.repeat, notes)


if __name__ == "__main__":
    main()
