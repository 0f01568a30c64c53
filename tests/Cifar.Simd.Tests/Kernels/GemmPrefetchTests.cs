using Cifar.Simd.Kernels;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Cifar.Simd.Tests.Kernels;

/// <summary>
/// The prefetch lists the GEMM driver hands its microkernels (<see cref="Prefetches"/>): every line of the next block's
/// row segments, once each, row by row, and shared out over the block's microkernel calls within what a call can issue.
/// </summary>
public unsafe class GemmPrefetchTests
{
    private static Arbitrary<(int Rows, int RowBytes, int Offset, int Length, int Seed)> Segments() =>
        (from rows in Gen.Choose(1, 40)
         from rowBytes in Gen.Elements(4, 40, 100, 400, 4096, 12288, 12300)
         from offset in Gen.Choose(0, 700)
         from length in Gen.Choose(1, 2000)
         from seed in Gen.Choose(0, int.MaxValue)
         select (rows, rowBytes, offset, length, seed)).ToArbitrary();

    [Property(MaxTest = 200)]
    public Property LinesAreEveryLineOfEachRowSegmentOnce() => Prop.ForAll(Segments(), s =>
    {
        var rng = new System.Random(s.Seed);
        bool gathered = s.Seed % 2 == 0;
        int[] rows = Enumerable.Range(0, s.Rows + 3).Select(_ => rng.Next(50)).ToArray();
        int r0 = gathered ? 3 : rng.Next(10);
        // Any base address will do: the lines are computed, never read.
        byte* baseAddress = (byte*)(nint)(0x10000 + rng.Next(64));
        var lines = new nint[s.Rows * (s.Length / 64 + 2)];
        int n;
        fixed (int* pr = rows)
        fixed (nint* pl = lines)
            n = Prefetches.Lines(baseAddress, gathered ? pr : null, s.RowBytes, r0, s.Rows, s.Offset, s.Length, pl);

        var expected = new List<nint>();
        for (int i = 0; i < s.Rows; i++)
        {
            nint start = (nint)baseAddress + (nint)(gathered ? rows[r0 + i] : r0 + i) * s.RowBytes + s.Offset;
            for (nint line = start / 64 * 64; line < start + s.Length; line += 64) expected.Add(line);
        }
        Assert.Equal(expected, lines.Take(n));
        Assert.All(expected, line => Assert.Equal(0, line % 64));
    });

    [Theory]
    [InlineData(1000, 35, 220)]
    [InlineData(1000, 3, 220)]
    [InlineData(7, 35, 220)]
    [InlineData(500, 10, 1)]
    public void TakeSharesTheLinesOutInOrderWithinWhatACallCanIssue(int rowLines, int calls, int kc)
    {
        var rows = new int[] { 0 };
        Prefetches list;
        fixed (int* pr = rows)
            list = Prefetches.Of((byte*)(nint)0x10000, pr, 1 << 20, 0, 1, 0, rowLines * 64, calls, kc);
        var handed = new List<nint>();
        for (int call = 0; call < calls; call++)
        {
            int count = list.Take(out byte** lines);
            Assert.InRange(count, 0, (kc + 1) / 2);
            for (int i = 0; i < count; i++) handed.Add((nint)lines[i]);
        }
        Assert.Equal(Enumerable.Range(0, handed.Count).Select(i => (nint)(0x10000 + 64 * i)), handed);
        // All lines go out unless the calls cannot issue that many.
        Assert.Equal(Math.Min(rowLines, calls * ((kc + 1) / 2)), handed.Count);
        if (handed.Count == rowLines) Assert.Equal(0, list.Take(out _));
    }
}
