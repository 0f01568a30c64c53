using Cifar.Simd.Models;

namespace Cifar.Simd.Tests.Models;

public class ScratchPoolTests
{
    [Fact]
    public void CallersInFlight_GetDistinctBuffers_AndReturnedOnesAreReused()
    {
        int created = 0;
        var pool = new ScratchPool<object>(() => { created++; return new object(); });
        var a = pool.Rent();
        var b = pool.Rent();
        Assert.NotSame(a, b);
        pool.Return(a);
        pool.Return(b);
        var c = pool.Rent();
        var d = pool.Rent();
        Assert.Equal(2, created);
        Assert.Equal(new HashSet<object>([a, b]), new HashSet<object>([c, d]));
    }

    [Fact]
    public void BeyondCapacity_ExtraBuffersAreMadeAndOnlyCapacityAreKept()
    {
        int created = 0;
        var pool = new ScratchPool<object>(() => { created++; return new object(); });
        var rented = Enumerable.Range(0, pool.Capacity + 3).Select(_ => pool.Rent()).ToArray();
        Assert.Equal(pool.Capacity + 3, rented.Distinct().Count());
        foreach (var r in rented) pool.Return(r);
        var again = Enumerable.Range(0, pool.Capacity + 3).Select(_ => pool.Rent()).ToArray();
        Assert.Equal(pool.Capacity + 3 + 3, created);
        Assert.Equal(pool.Capacity, again.Count(rented.Contains));
    }
}
