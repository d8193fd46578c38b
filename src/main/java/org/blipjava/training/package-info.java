/**
 * Training BLIP: trainable parameters, differentiable ops with backward passes, the training
 * objectives and the optimizer.
 *
 * <p>{@link org.blipjava.training.Parameters} holds every weight of a checkpoint under its key
 * with a gradient. An objective ({@link org.blipjava.training.CaptioningObjective},
 * {@link org.blipjava.training.VqaObjective}, {@link org.blipjava.training.RetrievalObjective},
 * {@link org.blipjava.training.ContrastiveObjective}) runs the forward pass on a
 * {@link org.blipjava.training.Tape}, which records each {@link org.blipjava.training.Ops op}'s
 * backward step; {@link org.blipjava.training.Tape#backward} then accumulates the gradients.
 * Forward numerics mirror the inference model ({@code org.blipjava.model}) so that losses and
 * gradients match the reference's.
 *
 * <pre>{@code
 * Parameters params = Parameters.load(modelDir);
 * CaptioningObjective objective = new CaptioningObjective(params, config);
 * AdamW opt = new AdamW(params, AdamW.Settings.withWeightDecay(0.05), p -> true);
 * WarmupCosineSchedule lr = new WarmupCosineSchedule(1e-5, 0, 100, totalSteps);
 * for (int step = 0; step < totalSteps; step++) {
 *     params.zeroGrad();
 *     Tape tape = new Tape(parallel);
 *     Tensor loss = objective.loss(tape, pixels, batch, ids, mask, labels, 0.1);
 *     tape.backward(loss);
 *     GradientClipping.clipByGlobalNorm(params, 1.0);
 *     opt.step(lr.lr(step));
 * }
 * }</pre>
 *
 * <p>{@link org.blipjava.training.Trainer} runs whole fine-tuning jobs on top of these pieces:
 * captioning ({@link org.blipjava.training.CaptionData}), VQA ({@link org.blipjava.training.VqaData})
 * and retrieval (momentum distillation, a feature queue and hard negatives), with augmentation
 * ({@link org.blipjava.training.ImageAugmentation}, then {@link org.blipjava.training.RandAugment}),
 * validation, and atomic resumable checkpoints
 * whose weights {@link org.blipjava.training.Checkpointing#savePretrained} writes in the Hugging
 * Face layout:
 *
 * <pre>{@code
 * try (Parallel parallel = new Parallel(4)) {
 *     Trainer trainer = new Trainer(modelDir, TrainingSettings.defaults().withEpochs(5), parallel);
 *     TrainingResult r = trainer.train(CaptionData.read(trainJson, imageRoot, "train"),
 *             CaptionData.read(valJson, imageRoot, "val"), outputDir, true, new TrainingListener() {});
 *     Path trained = r.finalModel(); // loadable with Blip.load
 * }
 * }</pre>
 *
 * <p>Parameters, tapes and tensors are mutable and belong to one training thread; the ops use
 * the {@link org.blipjava.tensor.Parallel} pool internally.
 */
package org.blipjava.training;
