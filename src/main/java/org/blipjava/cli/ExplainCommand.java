package org.blipjava.cli;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.image.RgbImage;
import org.blipjava.report.Explain;
import org.blipjava.report.ReportFiles;
import org.blipjava.report.Tsne;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.ImageTextModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;

/** {@code blip explain}: pictures that show what a model does; the kinds are its subcommands. */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = "Draws PNG pictures that explain a model (see the subcommands).",
        subcommands = {ExplainCommand.Heatmap.class, ExplainCommand.Embeddings.class, ExplainCommand.Attention.class,
            ExplainCommand.GradCam.class})
final class ExplainCommand {
    private ExplainCommand() {}

    /** What the picture commands share: images, a required --output PNG and the unreadable-image rule. */
    abstract static class PictureCommand extends ModelCommand {
        @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Image files, directories or globs.")
        List<String> imageArgs;

        /** How many image files the arguments named (readable or not). */
        int total;

        @Override
        void validate() {
            if (output == null) {
                throw new ParameterException(spec.commandLine(), "give the PNG file to write with --output");
            }
        }

        /** The readable images with their paths; unreadable ones are reported on stderr and left out. */
        List<Input> readAll() {
            List<Path> paths = expandImages(imageArgs);
            total = paths.size();
            List<Input> ok = new ArrayList<>();
            for (int i = 0; i < paths.size(); i++) {
                Input in = read(i, paths.get(i));
                if (in.error() == null) {
                    ok.add(in);
                } else {
                    err().println("blip: " + in.error());
                    err().flush();
                }
            }
            if (ok.isEmpty()) {
                throw new ParameterException(spec.commandLine(), "none of the images could be read");
            }
            return ok;
        }

        int write(BufferedImage picture, int used) {
            ReportFiles.writePng(output, picture);
            emitLine(String.format(Locale.ROOT, "wrote %s (%dx%d)", output, picture.getWidth(), picture.getHeight()));
            return used == total ? 0 : 1;
        }

        void emitLine(String s) {
            spec.commandLine().getOut().println(s);
            spec.commandLine().getOut().flush();
        }

        static List<String> names(List<Input> inputs) {
            return inputs.stream().map(in -> in.path().getFileName().toString()).toList();
        }
    }

    /**
     * What the per-image explanations share: a --panel size and one PNG per image (with one image
     * named, the --output file; with more, files in the --output folder).
     */
    abstract static class PanelPictureCommand extends PictureCommand {
        @Option(names = "--panel", paramLabel = "PX", defaultValue = "192", description = "Side of each panel (default ${DEFAULT-VALUE}).")
        int panel;

        @Override
        void validate() {
            super.validate();
            if (panel < 32) {
                throw new ParameterException(spec.commandLine(), "--panel must be at least 32, not " + panel);
            }
        }

        /**
         * Draws every readable image's picture; a single named image goes to --output, otherwise each
         * to {@code <output>/<image name without extension><suffix>}.
         */
        int writeEach(List<Input> in, String suffix, Function<RgbImage, BufferedImage> draw) {
            if (in.size() == 1 && total == 1) {
                return write(draw.apply(in.get(0).image()), 1);
            }
            for (Input i : in) {
                Path target = output.resolve(i.path().getFileName().toString().replaceAll("\\.[^.]*$", "") + suffix);
                ReportFiles.writePng(target, draw.apply(i.image()));
                emitLine("wrote " + target);
            }
            return in.size() == total ? 0 : 1;
        }
    }

    @Command(name = "heatmap", mixinStandardHelpOptions = true,
            description = {"Image x text similarity heatmap (ITM or ITC) as a PNG.",
                "Rows are the images, columns the texts; each cell shows its score.",
                "ITM needs a model with a matching head (BLIP retrieval, FLAVA pre-training); ITC works with every"
                    + " model that embeds (also BlipModel, CLIP, FlavaModel).",
                "Default model: Salesforce/blip-itm-base-coco."})
    static final class Heatmap extends PictureCommand {
        @Option(names = {"-t", "--text"}, required = true, paramLabel = "TEXT", description = "A text (repeat for more).")
        List<String> texts;

        @Option(names = "--score", paramLabel = "KIND",
                description = "itm (match probability) or itc (cosine similarity); default itm where the model "
                        + "has a matching head, else itc.")
        String score;

        @Override
        String defaultModel() {
            return "Salesforce/blip-itm-base-coco";
        }

        @Override
        int run(ImageTextModel model) {
            String kind = score != null ? score : model.hasMatchHead() ? "itm" : "itc";
            Explain.Score s = switch (kind.toLowerCase(Locale.ROOT)) {
                case "itm" -> Explain.Score.ITM;
                case "itc" -> Explain.Score.ITC;
                default -> throw new ParameterException(spec.commandLine(), "--score takes itm or itc, not '" + score + "'");
            };
            List<Input> in = readAll();
            BufferedImage pic = Explain.similarityHeatmap(model, images(in), names(in), texts, s);
            return write(pic, in.size());
        }
    }

    @Command(name = "embeddings", mixinStandardHelpOptions = true,
            description = {"2-D t-SNE map of image and text features as a PNG.",
                "Images are circles and texts triangles, coloured by category when given.",
                "Default model: Salesforce/blip-itm-base-coco."})
    static final class Embeddings extends PictureCommand {
        @Option(names = {"-t", "--text"}, paramLabel = "TEXT", description = "A text to place on the map (repeat for more).")
        List<String> texts = new ArrayList<>();

        @Option(names = "--categories-from-folders",
                description = "Colour each image by the name of the folder it is in.")
        boolean categoriesFromFolders;

        @Option(names = "--size", paramLabel = "PX", defaultValue = "900", description = "Picture side in pixels (default ${DEFAULT-VALUE}).")
        int size;

        @Option(names = "--perplexity", paramLabel = "X", defaultValue = "30", description = "t-SNE perplexity (default ${DEFAULT-VALUE}).")
        double perplexity;

        @Option(names = "--iterations", paramLabel = "N", defaultValue = "1000", description = "t-SNE iterations (default ${DEFAULT-VALUE}).")
        int iterations;

        @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "t-SNE random seed (default ${DEFAULT-VALUE}).")
        long seed;

        @Override
        String defaultModel() {
            return "Salesforce/blip-itm-base-coco";
        }

        @Override
        void validate() {
            super.validate();
            if (size < 200) {
                throw new ParameterException(spec.commandLine(), "--size must be at least 200, not " + size);
            }
            if (!(perplexity > 0) || iterations < 1) {
                throw new ParameterException(spec.commandLine(), "--perplexity must be positive and --iterations at least 1");
            }
        }

        @Override
        int run(ImageTextModel model) {
            List<Input> in = readAll();
            List<String> cats = null;
            if (categoriesFromFolders) {
                cats = in.stream().map(i -> {
                    Path parent = i.path().toAbsolutePath().getParent();
                    return parent == null || parent.getFileName() == null ? "" : parent.getFileName().toString();
                }).toList();
            }
            BufferedImage pic = Explain.embeddingMap(model, images(in), names(in), cats, texts, null, size,
                    new Tsne.Options(perplexity, iterations, seed));
            return write(pic, in.size());
        }
    }

    @Command(name = "attention", mixinStandardHelpOptions = true,
            description = {"Per-word caption cross-attention over the image as a PNG.",
                "Captions each image and draws the decoder's cross-attention over the image for every "
                    + "word of the caption (one PNG per image; with several images, --output is a folder).",
                "Default model: Salesforce/blip-image-captioning-base."})
    static final class Attention extends PanelPictureCommand {
        @Option(names = "--layer", paramLabel = "N", description = "0-based decoder layer (default: the last).")
        Integer layer;

        @Option(names = "--prompt", paramLabel = "TEXT", description = "Text the caption starts with.")
        String prompt;

        @Mixin
        GenerationFlags generation;

        @Override
        String defaultModel() {
            return "Salesforce/blip-image-captioning-base";
        }

        @Override
        int run(Blip blip) {
            GenerationConfig g = generation.apply(blip.generationDefaults(), spec);
            return writeEach(readAll(), "-attention.png", image -> picture(blip, image, g));
        }

        private BufferedImage picture(Blip blip, RgbImage image, GenerationConfig g) {
            Explain.CaptionAttention a = Explain.captionAttention(blip, image, prompt, g, layer);
            return Explain.captionAttentionPicture(image, a, panel);
        }
    }

    @Command(name = "gradcam", mixinStandardHelpOptions = true,
            description = {"ITM Grad-CAM of a text over an image as a PNG.",
                "ITM Grad-CAM of a text over each image (BLIP's demo): the text-encoder cross-attention "
                    + "weighted by the positive gradient of the match logit, for the whole text and per word "
                    + "(one PNG per image; with several images, --output is a folder).",
                "Needs a retrieval model. Default model: Salesforce/blip-itm-base-coco."})
    static final class GradCam extends PanelPictureCommand {
        @Option(names = {"-t", "--text"}, required = true, paramLabel = "TEXT", description = "The text to explain.")
        String text;

        @Option(names = "--layer", paramLabel = "N", description = "0-based text-encoder layer (default: two thirds down, 8 of 12 as BLIP's demo).")
        Integer layer;

        @Override
        String defaultModel() {
            return "Salesforce/blip-itm-base-coco";
        }

        @Override
        int run(Blip blip) {
            return writeEach(readAll(), "-gradcam.png", image -> picture(blip, image));
        }

        private BufferedImage picture(Blip blip, RgbImage image) {
            return Explain.gradCamPicture(image, Explain.itmGradCam(blip, image, text, layer), panel);
        }
    }
}
