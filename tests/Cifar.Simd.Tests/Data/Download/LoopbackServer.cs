using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Cifar.Simd.Tests.Data.Download;

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 (ephemeral port) over a raw TcpListener, so a test can
/// misbehave exactly (close mid-body, stall). It stops by itself after <see cref="Lifetime"/>.
/// </summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(20);

    /// <summary>Writes a response for a request to <c>path</c>.</summary>
    public delegate Task Responder(NetworkStream stream, string path, CancellationToken ct);

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _cts = new(Lifetime);
    private readonly ConcurrentBag<Task> _handlers = [];
    private readonly Responder _responder;
    private readonly Task _acceptLoop;
    private int _requests;

    public LoopbackServer(Responder responder)
    {
        _responder = responder;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public Uri BaseUri => new($"http://127.0.0.1:{Port}/files/");

    public int RequestCount => Volatile.Read(ref _requests);

    public ConcurrentQueue<string> Paths { get; } = new();

    public static Responder Serve(byte[] body) => async (s, _, ct) =>
    {
        await WriteHeadAsync(s, 200, "OK", body.Length, ct);
        await s.WriteAsync(body, ct);
    };

    /// <summary>Announces the whole body but closes the connection after half of it.</summary>
    public static Responder DropHalfway(byte[] body) => async (s, _, ct) =>
    {
        await WriteHeadAsync(s, 200, "OK", body.Length, ct);
        await s.WriteAsync(body.AsMemory(0, body.Length / 2), ct);
        await s.FlushAsync(ct);
    };

    public static Responder Status(int code, string reason) => async (s, _, ct) =>
    {
        byte[] body = Encoding.ASCII.GetBytes(reason);
        await WriteHeadAsync(s, code, reason, body.Length, ct);
        await s.WriteAsync(body, ct);
    };

    /// <summary>Sends the head and the first <paramref name="sent"/> bytes, then waits until the server stops.</summary>
    public static Responder Stall(byte[] body, int sent) => async (s, _, ct) =>
    {
        await WriteHeadAsync(s, 200, "OK", body.Length, ct);
        await s.WriteAsync(body.AsMemory(0, sent), ct);
        await s.FlushAsync(ct);
        await Task.Delay(Timeout.Infinite, ct);
    };

    /// <summary>A loopback port with nothing listening on it.</summary>
    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private static async Task WriteHeadAsync(NetworkStream s, int code, string reason, long length, CancellationToken ct)
    {
        string head = $"HTTP/1.1 {code} {reason}\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n";
        await s.WriteAsync(Encoding.ASCII.GetBytes(head), ct);
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                TcpClient client = await _listener.AcceptTcpClientAsync(_cts.Token);
                _handlers.Add(Task.Run(() => HandleAsync(client)));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                string path = await ReadRequestPathAsync(stream, _cts.Token);
                Interlocked.Increment(ref _requests);
                Paths.Enqueue(path);
                await _responder(stream, path, _cts.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
                // The client went away or the server stopped.
            }
        }
    }

    private static async Task<string> ReadRequestPathAsync(NetworkStream stream, CancellationToken ct)
    {
        var head = new StringBuilder();
        byte[] one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, ct) == 0)
                throw new IOException("Client closed before sending a request.");
            head.Append((char)one[0]);
        }

        return head.ToString().Split(' ')[1];
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        await Task.WhenAll(_handlers).WaitAsync(TimeSpan.FromSeconds(5));
        _cts.Dispose();
    }
}
