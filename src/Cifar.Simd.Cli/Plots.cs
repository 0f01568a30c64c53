using SkiaSharp;

namespace Cifar.Simd.Cli;

/// <summary>The notebook's pictures: loss and accuracy curves, and the first-layer weights as image tiles.</summary>
internal static class Plots
{
    /// <summary>The loss history against the iteration, like the notebook's first plot.</summary>
    public static void Loss(string path, IReadOnlyList<double> lossHistory, string title)
    {
        var plot = new ScottPlot.Plot();
        var xs = Enumerable.Range(0, lossHistory.Count).Select(i => (double)i).ToArray();
        var line = plot.Add.ScatterLine(xs, lossHistory.ToArray());
        line.LegendText = "training loss";
        plot.Title(title);
        plot.XLabel("iteration");
        plot.YLabel("loss");
        plot.SavePng(path, 900, 500);
    }

    /// <summary>Training and validation accuracy against the epoch, like the notebook's second plot.</summary>
    public static void Accuracy(string path, IReadOnlyList<double> train, IReadOnlyList<double> val, string title)
    {
        var plot = new ScottPlot.Plot();
        var tl = plot.Add.ScatterLine(Enumerable.Range(0, train.Count).Select(i => (double)i).ToArray(), train.ToArray());
        tl.LegendText = "train";
        var vl = plot.Add.ScatterLine(Enumerable.Range(0, val.Count).Select(i => (double)i).ToArray(), val.ToArray());
        vl.LegendText = "val";
        plot.ShowLegend();
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("classification accuracy");
        plot.SavePng(path, 900, 500);
    }

    /// <summary>
    /// CS231n's <c>visualize_grid(W1.reshape(32, 32, 3, -1).transpose(3, 0, 1, 2), padding=3)</c>: each
    /// column of W1 (3072, H), in feature order (row·32 + col)·3 + channel, becomes a 32×32 colour tile
    /// scaled to its own [min, max]; tiles sit on a black grid of ceil(√H) columns, enlarged
    /// <paramref name="scale"/> times with nearest-neighbour sampling.
    /// </summary>
    public static void Weights(string path, ReadOnlySpan<double> w1, int hidden, int scale = 3, int padding = 3)
    {
        const int Side = 32, Channels = 3;
        int grid = (int)Math.Ceiling(Math.Sqrt(hidden));
        int size = Side * grid + padding * (grid - 1);
        using var bitmap = new SKBitmap(size * scale, size * scale, SKColorType.Rgba8888, SKAlphaType.Opaque);
        bitmap.Erase(SKColors.Black);
        for (int j = 0; j < hidden; j++)
        {
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            for (int k = 0; k < Side * Side * Channels; k++)
            {
                double v = w1[k * hidden + j];
                lo = Math.Min(lo, v);
                hi = Math.Max(hi, v);
            }
            double range = hi > lo ? hi - lo : 1;
            int x0 = (j % grid) * (Side + padding), y0 = (j / grid) * (Side + padding);
            for (int r = 0; r < Side; r++)
                for (int c = 0; c < Side; c++)
                {
                    int k = (r * Side + c) * Channels;
                    byte R = Byte(w1[k * hidden + j], lo, range), G = Byte(w1[(k + 1) * hidden + j], lo, range), B = Byte(w1[(k + 2) * hidden + j], lo, range);
                    var colour = new SKColor(R, G, B);
                    for (int dy = 0; dy < scale; dy++)
                        for (int dx = 0; dx < scale; dx++)
                            bitmap.SetPixel((x0 + c) * scale + dx, (y0 + r) * scale + dy, colour);
                }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }

    private static byte Byte(double v, double lo, double range) => (byte)Math.Clamp((int)(255.0 * (v - lo) / range), 0, 255);
}
