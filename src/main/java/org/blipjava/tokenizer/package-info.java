/**
 * BLIP's text tokenizer: BERT's WordPiece tokenizer as the reference's slow {@code BertTokenizer} behaves
 * with BLIP's files ({@code [DEC]} bos token, {@code [ENC]} additional special token).
 *
 * <p>{@link org.blipjava.tokenizer.BertTokenizer#load} reads a tokenizer (or BLIP model) directory;
 * the tokenizer then encodes texts to ids ({@code encode}, {@code encodeBatch}) and decodes generated ids
 * back to text ({@code decode}).
 */
package org.blipjava.tokenizer;
