// A small builder for an ONNX graph: nodes with one output each, float32 initializers and
// attributes, on top of the compiled ONNX protobuf definitions of the `onnx-proto` package (the
// format's schema lives there, not here). Names are made unique by the builder, so the modules and
// activations that emit nodes never have to coordinate.
import onnxProto from "onnx-proto";

export const { onnx } = onnxProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** An attribute value: ONNX types each attribute, so a float and an int are told apart here. */
export type Attribute = { float: number } | { int: number } | { ints: number[] };

export const float = (value: number): Attribute => ({ float: value });
export const int = (value: number): Attribute => ({ int: value });

function attributeProto(name: string, value: Attribute): AttributeProto {
  const type = onnx.AttributeProto.AttributeType;
  if ("float" in value) return { name, type: type.FLOAT, f: value.float };
  if ("int" in value) return { name, type: type.INT, i: value.int };
  return { name, type: type.INTS, ints: value.ints };
}

/** float32 values as little-endian bytes, ONNX's raw_data layout, whatever the host's byte order. */
function rawFloat32(data: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i], true);
  return bytes;
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly used = new Set<string>();
  private readonly scalars = new Map<number, string>();

  /** A name not yet used in the graph, built from `hint`. */
  fresh(hint: string): string {
    let name = hint;
    for (let k = 1; this.used.has(name); k++) name = `${hint}_${k}`;
    this.used.add(name);
    return name;
  }

  /** Reserves a name the caller fixes (the graph's input and output). */
  reserve(name: string): string {
    if (this.used.has(name)) throw new Error(`ONNX graph: the name ${name} is already used`);
    this.used.add(name);
    return name;
  }

  /** Appends `opType(inputs)` and returns its one output's name (`output` when given, else a fresh one). */
  op(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, output?: string): string {
    const out = output ?? this.fresh(opType.toLowerCase());
    this.nodes.push({
      opType,
      name: this.fresh(`${opType}_node`),
      input: inputs,
      output: [out],
      attribute: Object.entries(attributes).map(([name, value]) => attributeProto(name, value)),
    });
    return out;
  }

  /** A float32 initializer of the given shape (row-major, as PyTorch lays it out). */
  initializer(hint: string, dims: number[], data: ArrayLike<number>): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new Error(`ONNX graph: ${hint} has ${data.length} values for shape [${dims.join(", ")}]`);
    const name = this.fresh(hint);
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: rawFloat32(data) });
    return name;
  }

  /** A float32 scalar constant, shared by every node that needs the same value. */
  scalar(value: number): string {
    let name = this.scalars.get(value);
    if (name === undefined) {
      name = this.initializer(`const_${String(value).replace(/[^0-9a-zA-Z]/g, "_")}`, [], [value]);
      this.scalars.set(value, name);
    }
    return name;
  }
}
