using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Cifar.Simd.Tests.Support;

/// <summary>
/// Memory figures taken at epoch boundaries: managed bytes allocated by the training thread and by the whole
/// process, the working set, the GC heap, and collection counts. Storage is sized up front and what one sample
/// allocates (reading the working set does) is subtracted, so the sampler does not count itself.
/// </summary>
internal sealed class MemorySampler
{
    private readonly Process _process = Process.GetCurrentProcess();
    private readonly long[] _thread, _total, _workingSet, _heap, _committed, _rssAnon, _rssFile, _rssShmem;
    private readonly int[] _gen0, _gen1, _gen2;
    private long _threadOverhead, _totalOverhead;

    /// <summary>Room for samples 0 … <paramref name="epochs"/> (sample 0 is taken before training).</summary>
    public MemorySampler(int epochs)
    {
        int n = epochs + 1;
        (_thread, _total, _workingSet, _heap, _committed) = (new long[n], new long[n], new long[n], new long[n], new long[n]);
        (_rssAnon, _rssFile, _rssShmem) = (new long[n], new long[n], new long[n]);
        (_gen0, _gen1, _gen2) = (new int[n], new int[n], new int[n]);
        Epochs = epochs;
    }

    /// <summary>The last epoch there is room for.</summary>
    public int Epochs { get; }

    /// <summary>Records the figures at the end of <paramref name="epoch"/> (0 = before the first).</summary>
    public void Sample(int epoch)
    {
        long thread = GC.GetAllocatedBytesForCurrentThread();
        long total = GC.GetTotalAllocatedBytes(precise: true);
        _thread[epoch] = thread - _threadOverhead;
        _total[epoch] = total - _totalOverhead;
        _process.Refresh();
        _workingSet[epoch] = _process.WorkingSet64;
        var info = GC.GetGCMemoryInfo();
        _heap[epoch] = info.HeapSizeBytes;
        _committed[epoch] = info.TotalCommittedBytes;
        (_rssAnon[epoch], _rssFile[epoch], _rssShmem[epoch]) = (StatusKiB("RssAnon:") * 1024, StatusKiB("RssFile:") * 1024, StatusKiB("RssShmem:") * 1024);
        (_gen0[epoch], _gen1[epoch], _gen2[epoch]) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        _threadOverhead += GC.GetAllocatedBytesForCurrentThread() - thread;
        _totalOverhead += GC.GetTotalAllocatedBytes(precise: true) - total;
    }

    // Splits the working set (Linux only, else -1): the runtime maps JIT-compiled code through shared memory for W^X.
    private static long StatusKiB(string field)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return -1;
        foreach (string line in File.ReadLines(status))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line.AsSpan(field.Length).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
        }
        return -1;
    }

    /// <summary>Bytes the training thread allocated during <paramref name="epoch"/> (≥ 1).</summary>
    public long ThreadAllocated(int epoch) => _thread[epoch] - _thread[epoch - 1];

    /// <summary>Bytes the whole process allocated during <paramref name="epoch"/>, the test runner's threads included.</summary>
    public long ProcessAllocated(int epoch) => _total[epoch] - _total[epoch - 1];

    /// <summary>The process's working set at the end of <paramref name="epoch"/>.</summary>
    public long WorkingSet(int epoch) => _workingSet[epoch];

    /// <summary>The GC heap size after the last collection before the end of <paramref name="epoch"/>.</summary>
    public long Heap(int epoch) => _heap[epoch];

    /// <summary>A Markdown table of every epoch's figures.</summary>
    public string Table(string title)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{title}");
        sb.AppendLine("| epoch | thread alloc (B) | process alloc (B) | working set (MiB) | anon / file / shmem (MiB) | GC heap (MiB) | committed (MiB) | gen0/1/2 GCs |");
        sb.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (int e = 0; e <= Epochs; e++)
        {
            string alloc = e == 0 ? "setup" : ThreadAllocated(e).ToString(CultureInfo.InvariantCulture);
            string process = e == 0 ? "setup" : ProcessAllocated(e).ToString(CultureInfo.InvariantCulture);
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {e} | {alloc} | {process} | {Mib(_workingSet[e]):F1} | {Mib(_rssAnon[e]):F1} / {Mib(_rssFile[e]):F1} / {Mib(_rssShmem[e]):F1} | {Mib(_heap[e]):F1} | {Mib(_committed[e]):F1} | {_gen0[e]}/{_gen1[e]}/{_gen2[e]} |");
        }
        return sb.ToString();
    }

    private static double Mib(long bytes) => bytes / (1024.0 * 1024.0);
}
