using System.Numerics;
using Cifar.Simd.Optim;
using Cifar.Simd.Tests.Support;

namespace Cifar.Simd.Tests.Optim;

public class UpdateRuleTests
{
    private const int Count = 20;

    private static (T[] W, T[] Dw, T[] A, T[] B) Inputs<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        static T[] Lin(double a, double b) => Array.ConvertAll(Numpy.Linspace(a, b, Count), v => T.CreateChecked(v));
        return (Lin(-0.4, 0.6), Lin(-0.6, 0.4), Lin(0.6, 0.9), Lin(0.7, 0.5));
    }

    // A state preset before the first step, as the CS231n notebook sets config['velocity'] etc.
    private static T[] Step<T>(UpdateRule<T> rule, Action<UpdateRule<T>, T[], T[]>? preset = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (w, dw, a, b) = Inputs<T>();
        rule.InitializeState(Count);
        preset?.Invoke(rule, a, b);
        rule.Update(w, dw);
        return w;
    }

    [Fact]
    public void EachRule_SingleStep_MatchesCs231nFormula_Float64_Bitwise()
    {
        Assert.Equal(OptimGolden.SgdNextWDouble, Step(new Sgd<double>(1e-2)));

        var momentum = new SgdMomentum<double>(1e-3, 0.9);
        Assert.Equal(OptimGolden.SgdMomentumNextWDouble, Step(momentum, (r, a, _) => a.CopyTo(((SgdMomentum<double>)r).Velocity)));
        Assert.Equal(OptimGolden.SgdMomentumVelocityDouble, momentum.Velocity.ToArray());

        var rms = new RmsProp<double>(1e-2);
        Assert.Equal(OptimGolden.RmsPropNextWDouble, Step(rms, (r, a, _) => a.CopyTo(((RmsProp<double>)r).Cache)));
        Assert.Equal(OptimGolden.RmsPropCacheDouble, rms.Cache.ToArray());

        var adam = new Adam<double>(1e-2) { TimeStep = 5 };
        Assert.Equal(OptimGolden.AdamNextWDouble, Step(adam, (r, a, b) => { a.CopyTo(((Adam<double>)r).M); b.CopyTo(((Adam<double>)r).V); }));
        Assert.Equal(OptimGolden.AdamMDouble, adam.M.ToArray());
        Assert.Equal(OptimGolden.AdamVDouble, adam.V.ToArray());
        Assert.Equal(6, adam.TimeStep);

        var adagrad = new AdaGrad<double>(1e-2);
        Assert.Equal(OptimGolden.AdaGradNextWDouble, Step(adagrad, (r, a, _) => a.CopyTo(((AdaGrad<double>)r).Cache)));
        Assert.Equal(OptimGolden.AdaGradCacheDouble, adagrad.Cache.ToArray());
    }

    [Fact]
    public void EachRule_SingleStep_MatchesNumpyFloat32()
    {
        // float32 agrees with numpy's float32 to an ulp or two; the vector lanes and the scalar tail both appear (20 = 2·8 + 4).
        static void Close(float[] expected, float[] actual) =>
            Assert.All(expected.Zip(actual), p => Assert.True(Math.Abs(p.First - p.Second) <= 4e-7f * Math.Max(1f, Math.Abs(p.First)), $"{p.First} vs {p.Second}"));
        Close(OptimGolden.SgdNextWSingle, Step(new Sgd<float>(1e-2)));
        Close(OptimGolden.SgdMomentumNextWSingle, Step(new SgdMomentum<float>(1e-3), (r, a, _) => a.CopyTo(((SgdMomentum<float>)r).Velocity)));
        Close(OptimGolden.RmsPropNextWSingle, Step(new RmsProp<float>(1e-2), (r, a, _) => a.CopyTo(((RmsProp<float>)r).Cache)));
        Close(OptimGolden.AdamNextWSingle, Step(new Adam<float>(1e-2) { TimeStep = 5 }, (r, a, b) => { a.CopyTo(((Adam<float>)r).M); b.CopyTo(((Adam<float>)r).V); }));
        Close(OptimGolden.AdaGradNextWSingle, Step(new AdaGrad<float>(1e-2), (r, a, _) => a.CopyTo(((AdaGrad<float>)r).Cache)));
    }

    [Fact]
    public void BadHyperparameters_NameTheValueAndRange()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd<float>(0));
        Assert.Contains("> 0", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd<float>(double.NaN));
        e = Assert.Throws<ArgumentOutOfRangeException>(() => new SgdMomentum<float>(1e-2, 1.0));
        Assert.Contains("[0, 1)", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam<float>(beta2: -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RmsProp<double>(epsilon: 0));
    }

    [Fact]
    public void StateIsSizedOnce_AndMismatchedLengthsAreRejected()
    {
        var rule = new Adam<float>();
        var w = new float[10];
        Assert.Throws<ArgumentException>(() => rule.Update(w, new float[9]));
        rule.Update(w, new float[10]);
        var e = Assert.Throws<ArgumentException>(() => rule.Update(new float[11], new float[11]));
        Assert.Contains("10", e.Message);
        Assert.Contains("11", e.Message);
    }
}
