namespace Cifar.Simd.Models;

/// <summary>
/// A small lock-free pool of inference scratch buffers, so that many threads can run a model's
/// test-mode forward pass at once without sharing activations and, in the steady state, without
/// allocating. Buffers are created lazily, one per caller in flight, and up to <see cref="Capacity"/>
/// are kept; a caller beyond that gets a fresh buffer that the GC collects after use.
/// </summary>
/// <typeparam name="TScratch">The buffer type; any instance serves any caller.</typeparam>
internal sealed class ScratchPool<TScratch> where TScratch : class
{
    private readonly TScratch?[] _slots;
    private readonly Func<TScratch> _create;

    /// <summary>Creates an empty pool that builds buffers with <paramref name="create"/>.</summary>
    public ScratchPool(Func<TScratch> create)
    {
        _create = create;
        // Callers in flight can exceed the cores when threads are preempted mid-call; twice the cores (at least 8) covers that.
        _slots = new TScratch?[Math.Max(8, 2 * Environment.ProcessorCount)];
    }

    /// <summary>The most buffers the pool keeps.</summary>
    public int Capacity => _slots.Length;

    /// <summary>Takes a buffer for the caller's exclusive use until <see cref="Return"/>.</summary>
    public TScratch Rent()
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            // A plain read first skips empty slots without the cost of an interlocked write.
            if (Volatile.Read(ref _slots[i]) is not null && Interlocked.Exchange(ref _slots[i], null) is { } scratch)
                return scratch;
        }
        return _create();
    }

    /// <summary>Gives a buffer back; it is kept when a slot is free, else left to the GC.</summary>
    public void Return(TScratch scratch)
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            if (Volatile.Read(ref _slots[i]) is null && Interlocked.CompareExchange(ref _slots[i], scratch, null) is null)
                return;
        }
    }
}
