package org.blipjava.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.blipjava.checkpoint.TorchFiles.Pickle;
import org.blipjava.checkpoint.TorchFiles.ZipOptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints whose pickle tries to run code, in every way the pickle format offers. Each payload
 * would create a marker file if executed by Python's unpickler; the reader must refuse it, name
 * the global and the file, and the marker must never appear.
 */
class MaliciousPickleTest {
    @TempDir
    Path tmp;
    private Path marker;
    private String shell;

    @BeforeEach
    void setUp() {
        marker = tmp.resolve("pwned");
        shell = "touch " + marker;
    }

    /** A valid tensor entry first, so the payload sits inside an otherwise normal state dict. */
    private static Pickle stateDictPrefix() {
        return new Pickle().proto(2).op('}').mark().str("ok")
                .tensorV2("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1});
    }

    private void assertRefused(String fileName, Function<Pickle, Pickle> payload, String global) throws Exception {
        Pickle p = payload.apply(stateDictPrefix().str("evil"));
        byte[] pkl = p.op('u').stop().bytes();
        Path f = TorchFiles.writeZip(tmp.resolve(fileName), pkl, Map.of("0", TorchFiles.f32(1f)), ZipOptions.plain());
        assertThatThrownBy(() -> PytorchCheckpoint.open(f).close()).as(fileName)
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(fileName)
                .hasMessageContaining("'" + global + "'");
        // And through the directory loader, as a model load would reach it.
        Path dir = Files.createDirectories(tmp.resolve("model-" + fileName));
        Files.copy(f, dir.resolve("pytorch_model.bin"));
        assertThatThrownBy(() -> Checkpoints.open(dir).close())
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'" + global + "'");
        assertThat(marker).as("the payload of " + fileName + " must not have run").doesNotExist();
    }

    @Test
    void globalOsSystemWithReduce() throws Exception {
        assertRefused("os_system.bin", p -> p.global("os", "system").mark().str(shell).tuple().reduce(), "os.system");
    }

    @Test
    void globalPosixSystemWithReduce() throws Exception {
        assertRefused("posix_system.bin", p -> p.global("posix", "system").mark().str(shell).tuple().reduce(),
                "posix.system");
    }

    @Test
    void globalBuiltinsEvalWithReduce() throws Exception {
        String code = "__import__('os').system('" + shell + "')";
        assertRefused("builtins_eval.bin", p -> p.global("builtins", "eval").mark().str(code).tuple().reduce(),
                "builtins.eval");
    }

    @Test
    void globalSubprocessPopen() throws Exception {
        assertRefused("popen.bin", p -> p.global("subprocess", "Popen").mark()
                .op(']').mark().str("touch").str(marker.toString()).op('e').tuple().reduce(), "subprocess.Popen");
    }

    @Test
    void stackGlobalVariant() throws Exception {
        assertRefused("stack_global.bin", p -> p.stackGlobal("os", "system").str(shell).op(0x85).reduce(), "os.system");
    }

    @Test
    void instOpcode() throws Exception {
        // INST reads "module\nname\n" inline and calls it with the marked arguments.
        assertRefused("inst.bin", p -> p.mark().str(shell).op('i')
                .raw("os\nsystem\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), "os.system");
    }

    @Test
    void objOpcode() throws Exception {
        // OBJ calls the first marked item with the rest.
        assertRefused("obj.bin", p -> p.mark().global("posix", "system").str(shell).op('o'), "posix.system");
    }

    @Test
    void newObjOnAForeignClass() throws Exception {
        assertRefused("newobj.bin", p -> p.global("subprocess", "Popen").mark().str(shell).tuple().op(0x81),
                "subprocess.Popen");
    }

    @Test
    void payloadHiddenInsideTensorRebuildArguments() throws Exception {
        // The global sits where torch would put the backward-hooks OrderedDict.
        assertRefused("hooks.bin", p -> p.global("torch._utils", "_rebuild_tensor_v2").mark()
                .mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(1).tuple().op('Q')
                .integer(0).ints(1).ints(1).op(0x89)
                .global("os", "system").mark().str(shell).tuple().reduce()
                .tuple().reduce(), "os.system");
    }

    @Test
    void lookalikeTorchGlobalsAreRefused() throws Exception {
        assertRefused("torch_load.bin", p -> p.global("torch", "load").mark().str("x").tuple().reduce(), "torch.load");
        assertRefused("torch_utils_other.bin", p -> p.global("torch._utils", "_load_from_bytes").mark().str("x")
                .tuple().reduce(), "torch._utils._load_from_bytes");
    }

    @Test
    void reduceOnSomethingThatIsNotAnAllowedCallableIsRefused() throws Exception {
        Pickle p = stateDictPrefix().str("evil").str("os.system").mark().str(shell).tuple().reduce();
        Path f = TorchFiles.writeZip(tmp.resolve("reduce_string.bin"), p.op('u').stop().bytes(),
                Map.of("0", TorchFiles.f32(1f)), ZipOptions.plain());
        assertThatThrownBy(() -> PytorchCheckpoint.open(f).close())
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("reduce_string.bin")
                .hasMessageContaining("not an allowed callable");
        // A storage type is an allowed global but not a callable either.
        Pickle q = stateDictPrefix().str("evil").global("torch", "FloatStorage").op(')').reduce();
        Path g = TorchFiles.writeZip(tmp.resolve("reduce_storage.bin"), q.op('u').stop().bytes(),
                Map.of("0", TorchFiles.f32(1f)), ZipOptions.plain());
        assertThatThrownBy(() -> PytorchCheckpoint.open(g).close())
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("not an allowed callable");
        assertThat(marker).doesNotExist();
    }

    @Test
    void extensionRegistryOpcodesAreRefused() throws Exception {
        Pickle p = stateDictPrefix().str("evil").op(0x82).op(1).mark().str(shell).tuple().reduce();
        Path f = TorchFiles.writeZip(tmp.resolve("ext1.bin"), p.op('u').stop().bytes(),
                Map.of("0", TorchFiles.f32(1f)), ZipOptions.plain());
        assertThatThrownBy(() -> PytorchCheckpoint.open(f).close())
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("ext1.bin")
                .hasMessageContaining("extension registry");
    }
}
