/**
 * The inference benchmark ({@code blip bench}): BLIP-base-shaped models with seeded random
 * weights, timed next to OpenBLAS {@code sgemm} and a PyTorch baseline in the same run.
 */
package org.blipjava.bench;
