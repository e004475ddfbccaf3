// actlab as a library: everything the CLI does is a call here.
export {
  ACTIVATIONS, ACTIVATION_NAMES, DEFAULT_LEAKY_SLOPE, activationParam, isActivationName,
  type ActivationInfo, type ActivationName, type ActivationParameter, type ScalarReference,
} from "./activations.js";
export { InputError } from "./errors.js";
export { Random } from "./random.js";
export { mlpConfig, parameterCount, linearShapes, stateDictNames, unknownActivation, type MlpConfig, type MlpOptions } from "./model.js";
export { Kernels } from "./engine/kernels.js";
export { parameterLayout, tensorView, stateDictOf, type NamedTensor, type ParameterLayout, type TensorSlot, type TensorRole, type ModuleSlot, type LinearModule, type NormModule, type ActivationModule } from "./layout.js";
export { NORMS, NORM_NAMES, DEFAULT_NORM, type NormName } from "./norms.js";
export { Mlp, type DenseLayer, type DiagnosticScratch, type ForwardMode, type NormState } from "./engine/mlp.js";
export { InputPipeline, type Normalization, type PixelLists } from "./engine/inputPipeline.js";
export { activationCurve, grid, type ActivationCurve } from "./engine/curves.js";
export { loadMnist, validateDataDir, defaultMnistDir, type MnistData, type MnistSplit, type LoadMnistOptions } from "./data/mnist.js";
export { readIdxFile, parseIdx, type IdxArray, type IdxKind } from "./data/idx.js";
export { trainJob, trainJobSteps, type EpochRecord, type TrainEvent, type ResumeState, type TrainControl } from "./train/trainer.js";
export { evaluate, type Evaluation } from "./train/evaluate.js";
export { DEFAULT_SETTINGS, type TrainSettings, type TrainJob } from "./train/settings.js";
export { OPTIMIZERS, OPTIMIZER_NAMES, resolveHyper, optimizerStateFloats, type OptimizerName, type OptimizerHyper, type OptimizerState } from "./optim.js";
export {
  runExperiments, notebookExperiment, presetExperiment, loadExperimentSpec, settingsOf, NOTEBOOK_EXPERIMENTS, PRESET_EXPERIMENTS,
  type ExperimentSpec, type ExperimentResult, type ModelSpec, type ModelSettings, type PresetName, type RunOptions,
} from "./train/experiment.js";
export { StopFlag } from "./train/pool.js";
export { settingsTable, type SettingsTable } from "./settingsTable.js";
export { summarize, formatSummary, type SummaryRow } from "./train/summary.js";
export { diagnoseEpoch, type EpochDiagnostics } from "./train/diagnostics.js";
export { SummaryWriter, EventFileWriter } from "./log/events.js";
export { makeHistogram, type HistogramData } from "./log/histogram.js";
export { readEventFile, readEventDir, parseEventRecords, type DecodedEvent, type EventFileResult } from "./log/eventReader.js";
export { encodeSafetensors, decodeSafetensors, readSafetensors, writeSafetensors, type Tensor } from "./checkpoint/safetensors.js";
export { saveModelCheckpoint, loadModelCheckpoint, type LoadedCheckpoint } from "./checkpoint/modelCheckpoint.js";
export { activationPlotSpec, plotActivations, activationNames, type ActivationPlotOptions } from "./plot/activationPlot.js";
export { activationTable, formatActivationTable, type ActivationTableRow, type MeasuredRange } from "./plot/activationTable.js";
export { renderSvg, renderPng } from "./plot/render.js";
export { accuracyChartSpec, lossChartSpec, gradientNormChartSpec, type MetricsRecord } from "./plot/runPlots.js";
export { writeReport, type ReportOptions, type ReportResult } from "./report/report.js";
export { loadRun, type RunData } from "./report/runData.js";
export { startServer, DEFAULT_HOST, DEFAULT_PORT, type ServeOptions, type DashboardServer } from "./serve/server.js";
