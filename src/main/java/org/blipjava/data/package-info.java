/**
 * Evaluation datasets: captioning sets (COCO Karpathy {@code dataset_coco.json}, BLIP's
 * {@code coco_karpathy_*.json}, Flickr30k {@code results.csv}, a folder or file of JSONL/CSV
 * captions) and BLIP-style VQA sets, read with split filtering. Entries whose image file is
 * missing are skipped and listed, never fatal.
 */
package org.blipjava.data;
