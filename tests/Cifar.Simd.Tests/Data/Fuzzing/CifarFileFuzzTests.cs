using Cifar.Simd.Data;
using Cifar.Simd.Tests.Support.Fuzzing;
using Xunit.Abstractions;

namespace Cifar.Simd.Tests.Data.Fuzzing;

/// <summary>
/// Mutates valid CIFAR-10 files (binary batches, their meta text, python-format pickles) and checks that each parser
/// only ever succeeds or throws <see cref="InvalidDataException"/> naming the file, within the deadline and without
/// allocating from a declared size. <c>CIFAR_SIMD_FUZZ_LONG=1</c> raises the case counts 50-fold.
/// </summary>
public class CifarFileFuzzTests(ITestOutputHelper output)
{
    /// <summary>Runs <paramref name="read"/>: true when it returns, false when it throws InvalidDataException starting with "name: ".</summary>
    internal static bool AcceptsOrRefuses(string name, Action read) => AcceptsOrRefuses([name], read);

    /// <summary>As <see cref="AcceptsOrRefuses(string, Action)"/>, where the message may start with any of <paramref name="names"/>.</summary>
    internal static bool AcceptsOrRefuses(IReadOnlyList<string> names, Action read)
    {
        try
        {
            read();
            return true;
        }
        catch (InvalidDataException e)
        {
            Assert.True(names.Any(n => e.Message.StartsWith(n + ": ", StringComparison.Ordinal)),
                $"the message does not start with one of {string.Join(", ", names)}: {e.Message}");
            return false;
        }
    }

    private static readonly ByteFuzzer BinaryFuzzer = new(
        [CifarTestData.BinaryBatch(1), CifarTestData.BinaryBatch(3, firstImage: 7), CifarTestData.BinaryMeta()],
        new FormatEdit("label", 4, (bytes, a, b) =>
        {
            // Label bytes sit at whole multiples of the record size.
            int records = bytes.Count / Cifar10.RecordBytes;
            if (records > 0) bytes[a % records * Cifar10.RecordBytes] = (byte)(new[] { 0, 9, 10, 11, 127, 128, 255 })[b % 7];
        }),
        FormatEdit.SetByte([0x00, 0x0A, 0x0D, 0x20, 0x80, 0xC3, 0xFF]),
        new FormatEdit("appendRecord", 1, (bytes, _, b) => bytes.AddRange(CifarTestData.BinaryBatch(1, b % 50))));

    private static bool ReadBinary(byte[] bytes)
    {
        bool batch = AcceptsOrRefuses("data_batch_1.bin", () =>
        {
            var parsed = Cifar10.ParseBinaryBatch(bytes, "data_batch_1.bin");
            Assert.Equal(bytes.Length / Cifar10.RecordBytes, parsed.Count);
            Assert.Equal(parsed.Count * Cifar10.Features, parsed.Images.Length);
            Assert.All(parsed.Labels.ToArray(), l => Assert.InRange(l, 0, 9));
        });
        bool meta = AcceptsOrRefuses("batches.meta.txt", () => Assert.Equal(10, Cifar10.ParseBinaryMeta(bytes, "batches.meta.txt").Count));
        return batch || meta;
    }

    [Fact]
    public void Binary_batches_and_meta_text_end_in_success_or_InvalidDataException()
    {
        using var runner = new FuzzRunner();
        var stats = runner.Check(BinaryFuzzer, FuzzSettings.Cases(1_000, 50_000), ReadBinary, length => (1 << 20) + 8L * length);
        output.WriteLine($"binary batch and meta: {stats}");
        Assert.True(stats.Accepted > 0 && stats.Refused > 0);
    }

    private static byte[][] PickleBases()
    {
        var w = new PickleWriter();
        // A meta dict that also uses what the sample files lack: LONG_BINPUT past memo 255, BINGET, LONG_BINGET,
        // APPEND, SETITEM, NEWTRUE and BINBYTES, as cPickle writes them for the official files.
        w.Proto().EmptyDict().Put().Mark();
        w.Str("label_names").Put().EmptyList().Put();
        int labelNames = w.LastMemo;
        w.Mark();
        foreach (var name in CifarTestData.LabelNames) w.Str(name).Put();
        w.Op('e');
        w.Str("num_vis").Put().Int(3072);
        w.Str("padding").Put().EmptyList().Put().Mark();
        for (int i = 0; i < 260; i++) w.Str($"p{i}").Put();
        w.Op('e');
        int lastPad = w.LastMemo;
        w.Op('u');
        w.Str("again").Put().Get(lastPad).Op('s');
        w.Str("alias").Put().Get(labelNames).Str("extra").Op('a').Op('s');
        w.Str("flag").Put().True().Op('s');
        w.Str("blob").Put().BinBytes([1, 2, 3]).Op('s');
        w.Op('.');
        return
        [
            CifarTestData.PythonBatch(CifarTestData.PlanarImages(2), CifarTestData.Labels(2), "training batch 1 of 5"),
            CifarTestData.PythonBatch(CifarTestData.PlanarImages(1, 5), [9], "testing batch 1 of 1"),
            CifarTestData.PythonMeta(10_000),
            w.ToArray(),
        ];
    }

    private static readonly ByteFuzzer PickleFuzzer = new(PickleBases(),
        PickleEdits.DeclaredLength, PickleEdits.Number, FormatEdit.SetByte(PickleEdits.Opcodes),
        FormatEdit.InsertSnippet("snippet", PickleEdits.Snippets, 3));

    private static bool ReadPickle(byte[] bytes)
    {
        bool batch = AcceptsOrRefuses("data_batch_1", () =>
        {
            var parsed = Cifar10.ParsePythonBatch(bytes, "data_batch_1");
            Assert.Equal(parsed.Count * Cifar10.Features, parsed.Images.Length);
            Assert.All(parsed.Labels.ToArray(), l => Assert.InRange(l, 0, 9));
        });
        bool meta = AcceptsOrRefuses("batches.meta", () => Assert.Equal(10, Cifar10.ParsePythonMeta(bytes, "batches.meta").Count));
        return batch || meta;
    }

    [Fact]
    public void Python_pickles_end_in_success_or_InvalidDataException()
    {
        using var runner = new FuzzRunner();
        var stats = runner.Check(PickleFuzzer, FuzzSettings.Cases(2_000, 100_000), ReadPickle, length => (1 << 20) + 64L * length);
        output.WriteLine($"python pickles: {stats}");
        Assert.True(stats.Accepted > 0 && stats.Refused > 0);
    }

    [Fact]
    public void The_pickle_bases_are_valid_and_read_as_expected()
    {
        var bases = PickleBases();
        Assert.Equal(2, Cifar10.ParsePythonBatch(bases[0], "b").Count);
        Assert.Equal(new byte[] { 9 }, Cifar10.ParsePythonBatch(bases[1], "b").Labels);
        Assert.Equal(CifarTestData.LabelNames, Cifar10.ParsePythonMeta(bases[2], "m"));
        Assert.Equal(CifarTestData.LabelNames, Cifar10.ParsePythonMeta(bases[3], "m"));
        Assert.Contains((byte)'j', bases[3]);
        Assert.Contains((byte)'r', bases[3]);
    }
}
