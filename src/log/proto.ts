// The slice of TensorFlow's event.proto and summary.proto that actlab writes and reads. Field
// numbers are TensorFlow's; everything else in those files (graphs, images, tensors, session logs)
// is left out, so a reader meets it as unknown fields and skips it.
import protobuf from "protobufjs";

const EVENT_PROTO = `
syntax = "proto3";
package tensorboard;

message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
  }
}

message Summary {
  message Value {
    string tag = 1;
    oneof value {
      float simple_value = 2;
      HistogramProto histo = 5;
    }
  }
  repeated Value value = 1;
}

message HistogramProto {
  double min = 1;
  double max = 2;
  double num = 3;
  double sum = 4;
  double sum_squares = 5;
  repeated double bucket_limit = 6 [packed = true];
  repeated double bucket = 7 [packed = true];
}
`;

const root = protobuf.parse(EVENT_PROTO, { keepCase: true }).root;
// Without resolving, protobufjs 7 has not applied proto3's field features yet and would write the
// repeated doubles unpacked (legal, but not what TensorFlow writes).
root.resolveAll();

export const EventType: protobuf.Type = root.lookupType("tensorboard.Event");

/** The version string TensorBoard expects in the first record of every event file. */
export const FILE_VERSION = "brain.Event:2";

/** Plain-object shapes handed to `EventType.encode`; field names as in the .proto. */
export interface HistogramMessage {
  min: number;
  max: number;
  num: number;
  sum: number;
  sum_squares: number;
  bucket_limit: number[];
  bucket: number[];
}

export interface ValueMessage {
  tag: string;
  simple_value?: number;
  histo?: HistogramMessage;
}

export interface EventMessage {
  wall_time: number;
  step?: number;
  file_version?: string;
  summary?: { value: ValueMessage[] };
}

export function encodeEvent(event: EventMessage): Uint8Array {
  return EventType.encode(event).finish();
}
