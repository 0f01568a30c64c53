using System.Runtime.InteropServices;
using Cifar.Simd.IO;
using Cifar.Simd.Models;
using Cifar.Simd.Optim;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Training;

public sealed partial class Solver<T>
{
    // The model-description keys ModelFile writes; a checkpoint resumes only into a model with the same values.
    private static readonly string[] ModelKeys =
        ["model", "input_size", "num_classes", "hidden_size", "hidden_dims", "normalization", "dropout_keep_ratio", "reg", "dropout_seed"];

    private static string ElementTypeCode => typeof(T) == typeof(float) ? "F32" : "F64";

    /// <summary>
    /// Writes everything needed to continue this run to <paramref name="path"/>, atomically: the current
    /// parameters and the model's buffers (under the model file's names), the best parameters, the update rule's
    /// state, the model generator's state, the counters, the learning rate, the histories, the options and
    /// <see cref="CheckpointMetadata"/>. The folder is created if needed. <see cref="Train"/> calls this itself
    /// when <see cref="SolverOptions.CheckpointPath"/> is set; between <c>Train</c> calls it may be called at any time.
    /// </summary>
    /// <exception cref="IOException">The file cannot be written; an older checkpoint at that path is left whole.</exception>
    public void SaveCheckpoint(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var file = new SafeTensorsFile();
        var meta = file.Metadata;
        ModelFile.Describe(Model, meta);
        meta["checkpoint"] = SolverCheckpoint.FormatName;
        meta["dtype"] = ElementTypeCode;
        CheckpointReader.WriteOptions(Options, meta);
        meta["epoch"] = CheckpointReader.Str(Epoch);
        meta["iteration"] = CheckpointReader.Str(Iteration);
        meta["iterations_per_epoch"] = CheckpointReader.Str(IterationsPerEpoch);
        meta["learning_rate"] = CheckpointReader.Str(UpdateRule.LearningRate);
        meta["best_val_acc"] = CheckpointReader.Str(BestValAcc);
        meta["num_train"] = CheckpointReader.Str(_xTrain.Rows);
        meta["num_val"] = CheckpointReader.Str(_xVal.Rows);
        meta["train_labels_fnv1a64"] = Fingerprint(_yTrain);
        meta["val_labels_fnv1a64"] = Fingerprint(_yVal);
        if (UpdateRule is Adam<T> adam) meta["optim.t"] = CheckpointReader.Str(adam.TimeStep);
        var state = Model.Random.GetState();
        meta["random.pos"] = CheckpointReader.Str(state.Position);
        meta["random.has_gauss"] = state.HasGauss ? "true" : "false";
        meta["random.gauss"] = CheckpointReader.Str(state.Gauss);
        foreach (var (name, value) in CheckpointMetadata) meta[CheckpointReader.AppPrefix + name] = value;

        var p = Model.Parameters;
        ReadOnlySpan<T> current = _bestSwappedIn && _currentParams is not null ? _currentParams : p.Values.AsReadOnlySpan();
        for (int i = 0; i < p.Count; i++) file.AddCopy(p.Names[i], current.Slice(p.OffsetOf(i), p[i].Length), p[i].Shape);
        foreach (var (name, buffer) in Model.Buffers) file.AddCopy(name, buffer);
        for (int i = 0; i < p.Count; i++) file.AddCopy($"best.{p.Names[i]}", _bestParams.AsSpan(p.OffsetOf(i), p[i].Length), p[i].Shape);
        foreach (string s in UpdateRule.StateNames)
        {
            ReadOnlySpan<T> buffer = UpdateRule.GetState(s);
            for (int i = 0; i < p.Count; i++) file.AddCopy($"optim.{s}.{p.Names[i]}", buffer.Slice(p.OffsetOf(i), p[i].Length), p[i].Shape);
        }
        // MT19937 words are below 2^32, so F64 holds them exactly (numpy: key.astype(np.uint32)).
        var key = new double[NumpyRandomState.KeyLength];
        for (int i = 0; i < key.Length; i++) key[i] = state.Key[i];
        file.AddCopy<double>("random.key", key, new Shape(key.Length));
        file.AddCopy<double>("history.loss", CollectionsMarshal.AsSpan(LossHistory), new Shape(LossHistory.Count));
        file.AddCopy<double>("history.train_acc", CollectionsMarshal.AsSpan(TrainAccHistory), new Shape(TrainAccHistory.Count));
        file.AddCopy<double>("history.val_acc", CollectionsMarshal.AsSpan(ValAccHistory), new Shape(ValAccHistory.Count));

        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        file.Save(path);
        _lastCheckpoint = (Path.GetFullPath(path), Iteration);
    }

    /// <summary>
    /// Creates a solver that continues the run saved in <paramref name="checkpointPath"/>: the parameters, batchnorm
    /// statistics and generator state of <paramref name="model"/> are overwritten from the checkpoint, and the update
    /// rule's state, counters, learning rate, histories and best parameters are restored, so <see cref="Train"/> ends
    /// bit for bit where the uninterrupted run would have. The model must have the configuration of the saved one
    /// (its seed does not matter) and the data must be the run's (same sizes and labels).
    /// </summary>
    /// <param name="checkpointPath">A file written by <see cref="SaveCheckpoint"/>.</param>
    /// <param name="model">A model built like the run's.</param>
    /// <param name="xTrain">The run's training inputs.</param>
    /// <param name="yTrain">The run's training labels.</param>
    /// <param name="xVal">The run's validation inputs.</param>
    /// <param name="yVal">The run's validation labels.</param>
    /// <param name="options">
    /// Null to take the run's options from the checkpoint (checkpointing on to <paramref name="checkpointPath"/>);
    /// otherwise they must equal the run's except <see cref="SolverOptions.NumEpochs"/> (at least the epochs already
    /// done), <see cref="SolverOptions.PrintEvery"/> and <see cref="SolverOptions.CheckpointPath"/>.
    /// </param>
    /// <exception cref="SafeTensorsFormatException">The file is not a valid checkpoint, or an entry is missing or malformed.</exception>
    /// <exception cref="ArgumentException">The checkpoint does not match the model, the data or the options; the message names the file and the difference.</exception>
    public static Solver<T> Resume(string checkpointPath, IClassifier<T> model, Tensor<T> xTrain, int[] yTrain, Tensor<T> xVal, int[] yVal,
        SolverOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointPath);
        ArgumentNullException.ThrowIfNull(model);
        var r = new CheckpointReader(SafeTensors.Load(checkpointPath), checkpointPath);
        string elementType = r.ElementType();
        string mine = typeof(T) == typeof(float) ? "float" : "double";
        if (elementType != mine)
            throw r.Mismatch($"the checkpoint holds {elementType} values but the model is {mine}; resume with the element type the run was trained with.");
        var saved = r.Options();
        if (options is null)
        {
            options = saved with { CheckpointPath = checkpointPath };
        }
        else
        {
            ArgumentNullException.ThrowIfNull(options);
            CheckSameRun(r, saved, options);
        }
        var solver = new Solver<T>(model, xTrain, yTrain, xVal, yVal, options);
        solver.Restore(r);
        return solver;
    }

    private static void CheckSameRun(CheckpointReader r, SolverOptions saved, SolverOptions given)
    {
        void Same<TV>(string name, TV a, TV b)
        {
            if (!EqualityComparer<TV>.Default.Equals(a, b))
                throw r.Mismatch($"the checkpoint's run used {name} = {a?.ToString() ?? "null"}, but the options say {b?.ToString() ?? "null"}; "
                    + "only NumEpochs, PrintEvery and CheckpointPath may change when resuming.");
        }
        Same(nameof(SolverOptions.UpdateRule), saved.UpdateRule, given.UpdateRule);
        Same(nameof(SolverOptions.LearningRate), saved.LearningRate, given.LearningRate);
        Same(nameof(SolverOptions.Momentum), saved.Momentum, given.Momentum);
        Same(nameof(SolverOptions.DecayRate), saved.DecayRate, given.DecayRate);
        Same(nameof(SolverOptions.Beta1), saved.Beta1, given.Beta1);
        Same(nameof(SolverOptions.Beta2), saved.Beta2, given.Beta2);
        Same(nameof(SolverOptions.Epsilon), saved.Epsilon, given.Epsilon);
        Same(nameof(SolverOptions.LearningRateDecay), saved.LearningRateDecay, given.LearningRateDecay);
        Same(nameof(SolverOptions.BatchSize), saved.BatchSize, given.BatchSize);
        Same(nameof(SolverOptions.NumTrainSamples), saved.NumTrainSamples, given.NumTrainSamples);
        Same(nameof(SolverOptions.NumValSamples), saved.NumValSamples, given.NumValSamples);
    }

    // Reads and checks everything first, so a refused checkpoint leaves the model untouched.
    private void Restore(CheckpointReader r)
    {
        var description = new Dictionary<string, string>(StringComparer.Ordinal);
        ModelFile.Describe(Model, description);
        foreach (string setting in ModelKeys)
        {
            string? theirs = r.File.Metadata.GetValueOrDefault(setting), ours = description.GetValueOrDefault(setting);
            if (theirs != ours)
                throw r.Mismatch($"the checkpoint was written for a model with {setting} = {theirs ?? "(none)"}, but this model has {setting} = {ours ?? "(none)"}.");
        }
        if (r.Int("num_train", 1) != _xTrain.Rows || r.Int("num_val", 1) != _xVal.Rows)
            throw r.Mismatch($"the checkpoint's run had {r.Meta("num_train")} training and {r.Meta("num_val")} validation rows, but this data has {_xTrain.Rows} and {_xVal.Rows}.");
        if (r.Meta("train_labels_fnv1a64") != Fingerprint(_yTrain) || r.Meta("val_labels_fnv1a64") != Fingerprint(_yVal))
            throw r.Mismatch("the training or validation labels differ from the checkpoint's run (another data set or split); a run resumes only on its own data.");
        if (r.Int("iterations_per_epoch", 1) != IterationsPerEpoch)
            throw r.Mismatch($"the checkpoint's run had {r.Meta("iterations_per_epoch")} iterations per epoch, this solver {IterationsPerEpoch}.");
        int iteration = r.Int("iteration", 0), epoch = r.Int("epoch", 0);
        if (epoch != iteration / IterationsPerEpoch)
            throw r.Bad($"epoch {epoch} does not follow from iteration {iteration} at {IterationsPerEpoch} iterations per epoch.");
        if (iteration > NumIterations)
            throw r.Mismatch($"the checkpoint is at iteration {iteration} (epoch {epoch}), past the {NumIterations} iterations of NumEpochs = {Options.NumEpochs}; "
                + $"resume with at least {(iteration + IterationsPerEpoch - 1) / IterationsPerEpoch} epochs.");
        double learningRate = r.Double("learning_rate"), bestValAcc = r.Double("best_val_acc");
        if (!(learningRate > 0) || !double.IsFinite(learningRate))
            throw r.Bad($"metadata 'learning_rate' = {learningRate} is not a finite number > 0.");
        if (!(bestValAcc >= 0 && bestValAcc <= 1))
            throw r.Bad($"metadata 'best_val_acc' = {bestValAcc} is not in [0, 1].");
        long timeStep = UpdateRule is Adam<T> ? r.Long("optim.t", 0) : 0;

        var loss = r.Vector<double>("history.loss");
        var trainAcc = r.Vector<double>("history.train_acc");
        var valAcc = r.Vector<double>("history.val_acc");
        if (loss.Rank != 1 || loss.Length != iteration)
            throw r.Bad($"tensor 'history.loss' has shape {loss.Shape} but the run is at iteration {iteration}, so it needs ({iteration},).");
        if (trainAcc.Rank != 1 || valAcc.Rank != 1 || trainAcc.Length != valAcc.Length)
            throw r.Bad($"tensors 'history.train_acc' {trainAcc.Shape} and 'history.val_acc' {valAcc.Shape} must be vectors of one length.");

        var key = r.Tensor<double>("random.key", new Shape(NumpyRandomState.KeyLength)).AsReadOnlySpan();
        var words = new uint[key.Length];
        for (int i = 0; i < key.Length; i++)
        {
            if (!(key[i] >= 0 && key[i] <= uint.MaxValue) || key[i] != Math.Floor(key[i]))
                throw r.Bad($"random.key[{i}] = {key[i]} is not a 32-bit unsigned integer.");
            words[i] = (uint)key[i];
        }
        int position = r.Int("random.pos", 0);
        if (position > NumpyRandomState.KeyLength)
            throw r.Bad($"metadata 'random.pos' = {position} is outside [0, {NumpyRandomState.KeyLength}].");
        var randomState = new NumpyRandomState(words, position, r.Bool("random.has_gauss"), r.Double("random.gauss"));

        var p = Model.Parameters;
        var copies = new List<(Tensor<T> From, int Offset, Tensor<T>? To)>();
        for (int i = 0; i < p.Count; i++)
        {
            copies.Add((r.Tensor<T>(p.Names[i], p[i].Shape), p.OffsetOf(i), p[i]));
            copies.Add((r.Tensor<T>($"best.{p.Names[i]}", p[i].Shape), p.OffsetOf(i), null));
        }
        var buffers = Model.Buffers.Select(b => (From: r.Tensor<T>(b.Key, b.Value.Shape), To: b.Value)).ToList();
        var states = UpdateRule.StateNames.Select(s => (Name: s, Parts: Enumerable.Range(0, p.Count)
            .Select(i => (From: r.Tensor<T>($"optim.{s}.{p.Names[i]}", p[i].Shape), Offset: p.OffsetOf(i))).ToList())).ToList();

        // Everything checked: now overwrite.
        foreach (var (from, offset, to) in copies)
        {
            if (to is not null) from.CopyTo(to);
            else from.AsReadOnlySpan().CopyTo(_bestParams.AsSpan(offset));
        }
        foreach (var (from, to) in buffers) from.CopyTo(to);
        foreach (var (name, parts) in states)
        {
            Span<T> buffer = UpdateRule.GetState(name);
            foreach (var (from, offset) in parts) from.AsReadOnlySpan().CopyTo(buffer.Slice(offset));
        }
        if (UpdateRule is Adam<T> adam) adam.TimeStep = timeStep;
        UpdateRule.LearningRate = learningRate;
        Model.Random.SetState(randomState);
        LossHistory.Clear();
        LossHistory.AddRange(loss.ToArray());
        TrainAccHistory.Clear();
        TrainAccHistory.AddRange(trainAcc.ToArray());
        ValAccHistory.Clear();
        ValAccHistory.AddRange(valAcc.ToArray());
        Iteration = iteration;
        Epoch = epoch;
        BestValAcc = bestValAcc;
        foreach (var (k, v) in r.AppMetadata()) CheckpointMetadata[k] = v;
        _lastCheckpoint = (Path.GetFullPath(r.Path), iteration);
    }

    // FNV-1a over the labels' bytes: a cheap check that a run resumes on its own data.
    private static string Fingerprint(int[] labels)
    {
        ulong hash = 14695981039346656037;
        foreach (int label in labels)
            for (int b = 0; b < 32; b += 8)
            {
                hash ^= (byte)(label >> b);
                hash *= 1099511628211;
            }
        return hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }
}
