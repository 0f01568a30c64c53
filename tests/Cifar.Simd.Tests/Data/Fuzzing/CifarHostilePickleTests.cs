using Cifar.Simd.Data;
using Cifar.Simd.Tests.Support.Fuzzing;

namespace Cifar.Simd.Tests.Data.Fuzzing;

/// <summary>
/// Hand-made hostile pickles: huge declared lengths in tiny files, and small files whose memo references would make
/// a naive reader do quadratic work. Each must be refused (or read) within the deadline and a linear memory budget.
/// </summary>
public class CifarHostilePickleTests
{
    private static PickleWriter Start() => new PickleWriter().Proto();

    /// <summary>Parses as a batch and as a meta file on the fuzz thread; each must end in InvalidDataException.</summary>
    private static string Refused(byte[] pickle, long budgetPerByte = 16)
    {
        string message = "";
        using var runner = new FuzzRunner();
        var outcome = runner.Run(() =>
        {
            Assert.Throws<InvalidDataException>(() => Cifar10.ParsePythonBatch(pickle, "data_batch_1"));
            message = Assert.Throws<InvalidDataException>(() => Cifar10.ParsePythonMeta(pickle, "batches.meta")).Message;
            return false;
        });
        Assert.True(outcome.AllocatedBytes < (1 << 20) + budgetPerByte * pickle.Length, $"allocated {outcome.AllocatedBytes:N0} bytes for {pickle.Length:N0}");
        Assert.StartsWith("batches.meta: ", message);
        return message;
    }

    [Theory]
    [InlineData('T', new byte[] { 0xFF, 0xFF, 0xFF, 0x7F }, 1000, "claims 2147483647 bytes but only 1000 remain")]
    [InlineData('T', new byte[] { 0x00, 0x00, 0x00, 0x80 }, 1000, "claims -2147483648 bytes")]
    [InlineData('B', new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, 1000, "claims 4294967295 bytes but only 1000 remain")]
    [InlineData('B', new byte[] { 0x00, 0x04, 0x00, 0x00 }, 1000, "claims 1024 bytes but only 1000 remain")]
    [InlineData('U', new byte[] { 0xFF }, 200, "claims 255 bytes but only 200 remain")]
    [InlineData('X', new byte[] { 0xFF, 0xFF, 0xFF, 0x7F }, 1000, "unsupported pickle opcode 0x58")]
    public void A_string_declaring_more_than_the_file_holds_is_refused_before_allocating(char opcode, byte[] length, int remaining, string problem)
    {
        // A file of about 1 KB whose string opcode claims up to 4 GB.
        var pickle = Start().EmptyDict().Mark().Op(opcode).Raw(length).Raw(new byte[remaining]).ToArray();
        Assert.Contains(problem, Refused(pickle));
    }

    // Found by review: every SETITEMS pair decoded its key afresh, so one 500 KB key read back 100,000 times through
    // BINGET (a 1 MB file) made 100 GB of strings. Dict keys are now at most 256 bytes, as CIFAR-10's are a few words.
    [Fact]
    public void A_long_dict_key_repeated_through_the_memo_is_refused_quickly()
    {
        var w = Start().EmptyDict().Mark().Bytes(new byte[500_000]).Put().None();
        for (int i = 0; i < 100_000; i++) w.Get(1).None();
        var pickle = w.Op('u').Op('.').ToArray();
        Assert.Contains("a dict key of 500,000 bytes is set at offset", Refused(pickle));
    }

    // Found by review: ParsePythonMeta decoded every label name, so 100,000 references to one 500 KB string made
    // 100 GB of strings; only the ten names CIFAR-10 uses are decoded now.
    [Fact]
    public void Label_names_repeated_through_the_memo_are_decoded_once_each()
    {
        var w = Start().EmptyDict().Mark().Str("label_names").EmptyList().Mark().Bytes(new byte[500_000]).Put();
        for (int i = 0; i < 100_000; i++) w.Get(1);
        var pickle = w.Op('e').Op('u').Op('.').ToArray();
        string[] names = [];
        using var runner = new FuzzRunner();
        var outcome = runner.Run(() =>
        {
            names = [.. Cifar10.ParsePythonMeta(pickle, "batches.meta")];
            return true;
        });
        Assert.Equal(10, names.Length);
        Assert.All(names, n => Assert.Equal(500_000, n.Length));
        Assert.True(outcome.AllocatedBytes < 32L * pickle.Length, $"allocated {outcome.AllocatedBytes:N0} bytes for {pickle.Length:N0}");
    }

    // Found by review: a megabyte of one-byte opcodes ('}' builds a dict, '(' a mark, BINGET a reference) made
    // about 100 bytes of objects each. The opcode count is now capped at 524,288, 17 times what a batch needs.
    [Theory]
    [InlineData((byte)'}')]
    [InlineData((byte)'(')]
    [InlineData((byte)']')]
    public void A_megabyte_of_one_byte_opcodes_is_refused_after_a_bounded_number(byte op)
    {
        var pickle = Start().Raw(Enumerable.Repeat(op, 1 << 20).ToArray()).Op('.').ToArray();
        Assert.Contains("runs more than 524,288 opcodes (at offset 524289)", Refused(pickle, budgetPerByte: 64));
    }

    [Fact]
    public void A_list_appended_to_itself_through_the_memo_is_never_walked()
    {
        var w = Start().EmptyList().Put().Mark();
        for (int i = 0; i < 200_000; i++) w.Get(1);
        Assert.Contains("does not hold a dict", Refused(w.Op('e').Op('.').ToArray(), budgetPerByte: 64));
    }

    [Fact]
    public void A_huge_string_in_an_error_is_shortened()
    {
        var pickle = Start().Global("numpy", "dtype").Bytes(new byte[300_000]).Int(0).Int(1).Byte(0x87).Op('R').Op('.').ToArray();
        string message = Refused(pickle);
        Assert.Contains("numpy dtype '\0\0\0", message);
        Assert.Contains("(300,000 bytes)", message);
        Assert.True(message.Length < 400, message.Length.ToString());
    }
}
