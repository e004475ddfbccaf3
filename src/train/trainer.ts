// The epoch loop for one model and one seed. It runs the same way on the main thread or in a
// worker: everything it has to say leaves through `emit`, and the caller decides where it goes
// (the terminal, the run directory). It never touches the file system itself.
import type { DataIdentity } from "../data/identity.js";
import type { MnistData } from "../data/mnist.js";
import type { ResumeState as CheckpointResumeState } from "../checkpoint/modelCheckpoint.js";
import { memoryProblem, Mlp, type BatchRows, type Normalization } from "../engine/mlp.js";
import type { ThreadTeamFactory } from "../engine/threadTeam.js";
import type { MlpConfig } from "../model.js";
import { tensorView } from "../layout.js";
import { finiteHistogram, type HistogramData } from "../log/histogram.js";
import { Random } from "../random.js";
import { evaluate, identityOrder, requireSplitFitsModel } from "./evaluate.js";
import { diagnoseEpoch, UnitStatistics, type EpochDiagnostics } from "./diagnostics.js";
import type { TrainJob, TrainSettings } from "./settings.js";

// One epoch's record is a line of metrics.jsonl: its shape is defined with the run folder's formats.
export type { EpochRecord } from "../runFormat.js";
import type { EpochRecord } from "../runFormat.js";

/**
 * A Linear layer's weight and weight-gradient histograms at an epoch's end, made where the tensors
 * live (no copy of a block leaves the model: a 3 × 2048 net's two would be 46 MB every epoch); each
 * is absent where the tensor holds a non-finite value (finiteHistogram).
 */
export interface LayerHistograms {
  /** 1-based Linear layer index, as the notebook's histogram tags count them. */
  layer: number;
  weight?: HistogramData;
  gradWeight?: HistogramData;
}

/** Everything needed to continue a job exactly where it stopped (the checkpoint's format, with this job's records). */
export type ResumeState = CheckpointResumeState<EpochRecord>;

export type TrainEvent =
  | { type: "start"; model: string; seed: number; parameterCount: number; stepsPerEpoch: number; epochs: number; startEpoch: number }
  | { type: "step"; model: string; seed: number; epoch: number; step: number; stepsPerEpoch: number; loss: number; samplesPerSecond: number }
  | {
    type: "epoch"; record: EpochRecord; layers: LayerHistograms[]; diagnostics: EpochDiagnostics;
    /** Where to continue from if the process dies before the next epoch ends; absent after the last epoch and on divergence. */
    resume?: ResumeState;
  }
  | {
    type: "end"; model: string; seed: number; status: "finished" | "diverged" | "interrupted"; params: Float32Array; resume?: ResumeState; history: EpochRecord[];
    /** How the model was trained and on what, for its checkpoint's metadata (trainingMetadata). */
    trainedOn: { mean: number; std: number; testBatchSize: number; data?: DataIdentity };
  };

export interface TrainControl {
  /** Asked after every step; true stops the job cleanly with a resumable state. */
  shouldStop?: () => boolean;
  /**
   * Asked after every step but an epoch's last (whose epoch is evaluated first) and after every epoch
   * but the last: true suspends trainJobSteps (it yields) with its model alive, to continue where it
   * was at the next next(). Time suspended is not training time. trainJob never stays suspended.
   */
  shouldYield?: () => boolean;
  /** Continue from a saved state instead of initialising. */
  resume?: ResumeState;
  /** Step events at most this often (ms); 0 = every step. */
  stepEventIntervalMs?: number;
  /** Threads for the model's wide layers (Node's worker pool gives spare ones; results are the same bits). */
  teams?: ThreadTeamFactory;
  /**
   * A buffer of `bytes` bytes whose contents may be overwritten, or undefined: the copies an event
   * carries (the parameters and the optimiser's state, 46 MB at 3 × 2048) go into buffers the
   * receiver handed back after writing an earlier event's (pool.ts), instead of new memory that
   * lingers until V8's next full collection.
   */
  spareBuffer?: (bytes: number) => ArrayBuffer | undefined;
}

const STREAM_SALTS = { init: 0x9e3779b9, shuffle: 0x85ebca6b, noise: 0x165667b1 } as const;

/**
 * Derives independent seeds from the job's seed, so that init, data order and rrelu's training
 * slopes (the model's noise seed) never interfere.
 */
export function streamSeed(seed: number, stream: keyof typeof STREAM_SALTS): number {
  return (Math.imul(seed ^ STREAM_SALTS[stream], 0xc2b2ae35) ^ 0x27d4eb2f) | 0;
}

/**
 * The rows a training job's model holds: its forward buffers take the larger of its training and
 * evaluation batches, what only training uses (the backward's) the training batch.
 */
export function modelBatchRows(settings: Pick<TrainSettings, "batchSize" | "testBatchSize">): Required<BatchRows> {
  return { maxBatch: Math.max(settings.batchSize, settings.testBatchSize), trainRows: settings.batchSize };
}

/**
 * Why models of these configs cannot be trained with these settings in a kernel instance's memory
 * (one phrase per model that does not fit); empty when all fit. Checked before a run folder is made.
 */
export function trainingMemoryProblems(
  models: ReadonlyArray<{ model: string; config: MlpConfig }>, settings: Pick<TrainSettings, "batchSize" | "testBatchSize" | "optimizer">,
): string[] {
  const rows = modelBatchRows(settings);
  return models.flatMap(({ model, config }) => {
    const problem = memoryProblem(config, rows, settings.optimizer);
    return problem ? [`model ${model}: ${problem}`] : [];
  });
}

export function trainJob(job: TrainJob, data: MnistData, emit: (event: TrainEvent) => void, control: TrainControl = {}): void {
  const steps = trainJobSteps(job, data, emit, control);
  while (!steps.next().done);
}

/**
 * trainJob as a generator, for a caller that must get its thread back while a job trains (a browser
 * worker reading pause and step messages): it yields wherever control.shouldYield says so, and the
 * caller's next() continues the same model, so the weights are trainJob's bit for bit. The model's
 * helper threads, if it has any, end with the generator (run out, thrown out of, or returned).
 */
export function* trainJobSteps(job: TrainJob, data: MnistData, emit: (event: TrainEvent) => void, control: TrainControl = {}): Generator<void, void, void> {
  // Pixel lists are kept only for a job that reads its data more than once: more than one epoch.
  const epochsLeft = job.settings.epochs - (control.resume?.epoch ?? 0);
  const { maxBatch, trainRows } = modelBatchRows(job.settings);
  const model = new Mlp(job.config, maxBatch, job.settings.optimizer, { teams: control.teams, keepLists: epochsLeft > 1, trainRows });
  try {
    yield* trainModel(model, job, data, emit, control);
  } finally {
    model.close();
  }
}

function* trainModel(model: Mlp, job: TrainJob, data: MnistData, emit: (event: TrainEvent) => void, control: TrainControl): Generator<void, void, void> {
  const { settings } = job;
  const normalization: Normalization = { mean: settings.mean, std: settings.std };
  const trainCount = Math.min(job.trainLimit ?? data.train.count, data.train.count);
  const stepsPerEpoch = Math.ceil(trainCount / settings.batchSize);
  // rrelu's slopes are a hash of this seed and the optimiser's step count (restored with a resumable state).
  model.setNoiseSeed(streamSeed(job.seed, "noise"));
  // No label is ever read as a class the model has no logit for (the loss kernels would read past the row).
  requireSplitFitsModel(model, data.train);
  const resume = control.resume;
  let shuffle: Random;
  if (resume) {
    model.writeParameters(resume.params);
    if (resume.optimizer.name !== settings.optimizer) {
      throw new Error(`the resumable state was trained with --optimizer ${resume.optimizer.name}, the run's settings say ${settings.optimizer}`);
    }
    model.writeOptimizerState(resume.optimizer);
    shuffle = Random.fromState(resume.shuffleStateAtEpochStart);
  } else {
    model.initialize(Random.fromSeed(streamSeed(job.seed, "init")), settings.init);
    shuffle = Random.fromSeed(streamSeed(job.seed, "shuffle"));
  }
  const history: EpochRecord[] = resume ? [...resume.history] : [];
  const startEpoch = resume?.epoch ?? 0;
  emit({ type: "start", model: job.model, seed: job.seed, parameterCount: model.parameterCount, stepsPerEpoch, epochs: settings.epochs, startEpoch });

  const order = identityOrder(trainCount);
  const testOrder = identityOrder(data.test.count);
  const unitStatistics = new UnitStatistics(model);
  const interval = control.stepEventIntervalMs ?? 100;
  // Copies for events go into handed-back buffers where there are some (TrainControl.spareBuffer).
  const spare = (floats: number): Float32Array | undefined => {
    const buffer = control.spareBuffer?.(floats * 4);
    return buffer ? new Float32Array(buffer, 0, floats) : undefined;
  };
  const end = (status: "finished" | "diverged" | "interrupted", resumeState?: ResumeState) =>
    emit({
      type: "end", model: job.model, seed: job.seed, status, params: model.parameters(spare), resume: resumeState, history,
      trainedOn: { mean: settings.mean, std: settings.std, testBatchSize: settings.testBatchSize, data: data.identity },
    });

  for (let epoch = startEpoch; epoch < settings.epochs; epoch++) {
    const shuffleStateAtEpochStart = shuffle.state();
    for (let i = 0; i < trainCount; i++) order[i] = i;
    shuffle.shuffle(order);
    const resuming = resume && epoch === startEpoch;
    let lossSum = resuming ? resume.lossSum : 0;
    const firstStep = resuming ? resume.step : 0;
    const secondsBefore = resuming ? resume.secondsSoFar : 0;
    let started = performance.now();
    let lastEvent = started;
    let diverged: { epoch: number; step: number } | undefined;
    for (let step = firstStep; step < stepsPerEpoch; step++) {
      const start = step * settings.batchSize;
      const count = Math.min(settings.batchSize, trainCount - start);
      model.input.loadBatch(data.train.images, data.train.labels, order, start, count, normalization);
      // settings is one object for the whole job, so the model resolves its knobs once.
      const loss = model.trainStep(count, settings);
      lossSum += loss;
      if (!Number.isFinite(loss)) {
        diverged = { epoch: epoch + 1, step: step + 1 };
        break;
      }
      const now = performance.now();
      if (now - lastEvent >= interval || step === stepsPerEpoch - 1) {
        const samples = (start + count - firstStep * settings.batchSize);
        emit({ type: "step", model: job.model, seed: job.seed, epoch: epoch + 1, step: step + 1, stepsPerEpoch, loss, samplesPerSecond: samples / ((now - started) / 1000) });
        lastEvent = now;
      }
      if (control.shouldStop?.() && step < stepsPerEpoch - 1) {
        end("interrupted", {
          epoch, step: step + 1, shuffleStateAtEpochStart, lossSum,
          secondsSoFar: secondsBefore + (performance.now() - started) / 1000,
          params: model.parameters(spare), optimizer: model.optimizerState(spare), history,
        });
        return;
      }
      if (step < stepsPerEpoch - 1 && control.shouldYield?.()) {
        const suspended = performance.now();
        yield;
        started += performance.now() - suspended;
      }
    }
    const trainSeconds = secondsBefore + (performance.now() - started) / 1000;
    const stepsDone = diverged ? diverged.step : stepsPerEpoch;
    unitStatistics.reset();
    const evaluation: { accuracy: number; loss: number } = diverged
      ? { accuracy: NaN, loss: NaN }
      : evaluate(model, data.test, settings.testBatchSize, normalization, (m, count) => unitStatistics.observe(count), testOrder);
    // A test loss that is NaN or infinite after finite training steps is divergence all the same: the
    // model's outputs are no longer numbers on some test image. Marked at the epoch's last step.
    // Its accuracy then counts argmaxes of NaN or infinite logits: no number to report.
    if (!diverged && !Number.isFinite(evaluation.loss)) {
      diverged = { epoch: epoch + 1, step: stepsDone };
      evaluation.accuracy = NaN;
    }
    const record: EpochRecord = {
      model: job.model,
      seed: job.seed,
      epoch: epoch + 1,
      // lossSum covers every step of the epoch, those before a resume included.
      train_loss: lossSum / stepsDone,
      test_acc: evaluation.accuracy,
      test_loss: evaluation.loss,
      seconds: trainSeconds,
      samples_per_s: (Math.min(trainCount, stepsDone * settings.batchSize) - firstStep * settings.batchSize) / (trainSeconds - secondsBefore || Infinity),
      ...(diverged ? { diverged } : {}),
    };
    history.push(record);
    // Copies of the blocks, made when asked: the event hands them to the main thread (a worker
    // transfers them, so they are gone here), and an interrupted end needs copies of its own.
    const stateAtEpochEnd = (): ResumeState => ({
      epoch: epoch + 1, step: 0, shuffleStateAtEpochStart: shuffle.state(), lossSum: 0, secondsSoFar: 0,
      params: model.parameters(spare), optimizer: model.optimizerState(spare), history: [...history],
    });
    const atEpochEnd = diverged || epoch === settings.epochs - 1 ? undefined : stateAtEpochEnd();
    // The blocks as the last step left them (the evaluation changes neither), read in place.
    const { layers, diagnostics } = model.readBlocks((params, grads) => ({
      layers: model.layout.linears.map((linear): LayerHistograms => {
        const weight = finiteHistogram(tensorView(params, linear.weight));
        const gradWeight = finiteHistogram(tensorView(grads, linear.weight));
        // Absent, not undefined: the event travels as JSON too (queueProtocol.ts).
        return { layer: linear.linear + 1, ...(weight ? { weight } : {}), ...(gradWeight ? { gradWeight } : {}) };
      }),
      diagnostics: diagnoseEpoch(model, unitStatistics, { params, grads }),
    }));
    emit({ type: "epoch", record, layers, diagnostics, resume: atEpochEnd });
    if (diverged) {
      end("diverged");
      return;
    }
    if (control.shouldStop?.() && atEpochEnd) {
      end("interrupted", stateAtEpochEnd());
      return;
    }
    if (atEpochEnd && control.shouldYield?.()) yield;
  }
  end("finished");
}
