/**
 * Caption and VQA evaluation metrics computed as the reference tools do: BLEU-1..4, ROUGE-L and
 * CIDEr-D as the coco-caption toolkit ({@link org.blipjava.metrics.Bleu}, {@link
 * org.blipjava.metrics.RougeL}, {@link org.blipjava.metrics.CiderD}), METEOR after METEOR 1.5
 * without paraphrases ({@link org.blipjava.metrics.Meteor}), the toolkit's PTB-style tokenization
 * ({@link org.blipjava.metrics.PtbTokenizer}) and VQAv2 accuracy ({@link
 * org.blipjava.metrics.VqaAccuracy}).
 */
package org.blipjava.metrics;
