using FsCheck;
using FsCheck.Fluent;

namespace Cifar.Simd.Tests.Support.Fuzzing;

/// <summary>One edit: Kind picks the operation, A and B its position and value (reduced modulo the sizes when applied).</summary>
/// <param name="Kind">0 truncate, 1 bit flip, 2 insert, 3 delete, then the fuzzer's format edits in order from 4.</param>
/// <param name="A">Usually the position.</param>
/// <param name="B">Usually the value or a table index.</param>
public sealed record Mutation(int Kind, int A, int B)
{
    /// <summary>The edit's name, set by the generator so a shrunk counterexample reads well.</summary>
    public string Label { get; init; } = "";

    /// <inheritdoc/>
    public override string ToString() => $"{(Label.Length > 0 ? Label : $"kind{Kind}")}({A}, {B})";
}

/// <summary>A base file and the edits applied to it in order.</summary>
/// <param name="Base">Index into the fuzzer's bases.</param>
/// <param name="Mutations">The edits, applied first to last.</param>
public sealed record FuzzCase(int Base, Mutation[] Mutations)
{
    /// <inheritdoc/>
    public override string ToString() => $"base {Base}: {string.Join(", ", Mutations.Select(m => m.ToString()))}";
}

/// <summary>An edit that knows the format (a length field, a header number), applied in place to the bytes.</summary>
/// <param name="Name">Shown in counterexamples.</param>
/// <param name="Weight">Relative frequency among all edits (the generic ones weigh 3, 4, 3, 3).</param>
/// <param name="Apply">Edits the bytes given the mutation's A and B; may do nothing when it does not apply.</param>
public sealed record FormatEdit(string Name, int Weight, Action<List<byte>, int, int> Apply)
{
    /// <summary>Overwrites one byte with a value from a table of bytes that mean something to the format.</summary>
    public static FormatEdit SetByte(IReadOnlyList<byte> interesting, int weight = 3) =>
        new("set", weight, (bytes, a, b) =>
        {
            if (bytes.Count > 0) bytes[a % bytes.Count] = interesting[b % interesting.Count];
        });

    /// <summary>Inserts a snippet from a table (an opcode sequence, an escape) at a position.</summary>
    public static FormatEdit InsertSnippet(string name, IReadOnlyList<byte[]> snippets, int weight = 2) =>
        new(name, weight, (bytes, a, b) => bytes.InsertRange(a % (bytes.Count + 1), snippets[b % snippets.Count]));
}

/// <summary>
/// Generates and applies mutations of valid files: random truncations, bit flips, inserted and deleted
/// bytes, plus format edits such as huge declared sizes. Shared by every reader's fuzz tests.
/// </summary>
public sealed class ByteFuzzer
{
    private readonly byte[][] _bases;
    private readonly FormatEdit[] _edits;

    /// <summary>Creates a fuzzer over <paramref name="bases"/> with the generic edits and <paramref name="edits"/> (kinds 4, 5, …).</summary>
    public ByteFuzzer(byte[][] bases, params FormatEdit[] edits)
    {
        Assert.NotEmpty(bases);
        _bases = bases;
        _edits = edits;
        var kinds = new List<(int, Gen<int>)> { (3, Gen.Constant(0)), (4, Gen.Constant(1)), (3, Gen.Constant(2)), (3, Gen.Constant(3)) };
        for (int i = 0; i < edits.Length; i++) kinds.Add((edits[i].Weight, Gen.Constant(4 + i)));
        var mutation =
            from kind in Gen.Frequency(kinds.ToArray())
            from a in Gen.Choose(0, int.MaxValue)
            from b in Gen.Choose(0, int.MaxValue)
            select new Mutation(kind, a, b) { Label = KindName(kind) };
        Cases =
            from baseIndex in Gen.Choose(0, bases.Length - 1)
            from count in Gen.Choose(1, 4)
            from mutations in Gen.ArrayOf(mutation, count)
            select new FuzzCase(baseIndex, mutations);
    }

    /// <summary>The valid files the cases start from.</summary>
    public IReadOnlyList<byte[]> Bases => _bases;

    /// <summary>Random cases: a base and one to four edits.</summary>
    public Gen<FuzzCase> Cases { get; }

    private string KindName(int kind) => kind switch
    {
        0 => "truncate", 1 => "flip", 2 => "insert", 3 => "delete", _ => _edits[kind - 4].Name,
    };

    /// <summary>The base file with the case's edits applied in order.</summary>
    public byte[] Apply(FuzzCase c)
    {
        var bytes = new List<byte>(_bases[c.Base]);
        foreach (var m in c.Mutations)
            Apply(bytes, m);
        return bytes.ToArray();
    }

    /// <summary>Applies one edit in place.</summary>
    public void Apply(List<byte> bytes, Mutation m)
    {
        int n = bytes.Count;
        switch (m.Kind)
        {
            case 0:
                bytes.RemoveRange(m.A % (n + 1), n - m.A % (n + 1));
                break;
            case 1 when n > 0:
                bytes[m.A % n] ^= (byte)(1 << (m.B % 8));
                break;
            case 2:
                bytes.Insert(m.A % (n + 1), (byte)m.B);
                break;
            case 3 when n > 0:
                int at = m.A % n;
                bytes.RemoveRange(at, Math.Min(m.B % 16 + 1, n - at));
                break;
            case >= 4:
                _edits[m.Kind - 4].Apply(bytes, m.A, m.B);
                break;
        }
    }
}
