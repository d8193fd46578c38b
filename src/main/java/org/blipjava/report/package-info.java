/**
 * Reports a person reads: self-contained HTML evaluation reports (inline CSS and JavaScript,
 * thumbnails as data URIs, sortable tables) and PNG pictures drawn with Java2D (similarity
 * heatmaps, 2-D embedding maps, attention overlays). Every file is written atomically.
 */
package org.blipjava.report;
