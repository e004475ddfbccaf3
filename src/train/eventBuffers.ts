// The buffers a training event's copies occupy (a resumable state's parameters and optimiser state,
// the final parameters): a worker moves them to the main thread with the event. The pool hands an
// epoch's back once the event is handled, for the next copies (TrainControl.spareBuffer).
import type { TrainEvent } from "./trainer.js";

/** The distinct buffers under an event's copies (none for events without any). */
export function transferables(event: TrainEvent): ArrayBuffer[] {
  const buffers: ArrayBufferLike[] = [];
  // The copies a resumable state and the final parameters hold are made for the event: moved, not copied again.
  const resume = event.type === "epoch" || event.type === "end" ? event.resume : undefined;
  if (resume) buffers.push(resume.params.buffer, ...resume.optimizer.buffers.map((b) => b.buffer));
  if (event.type === "end") buffers.push(event.params.buffer);
  return [...new Set(buffers)] as ArrayBuffer[];
}
