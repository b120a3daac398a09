/**
 * The parts of a ToFunction invocation batch the handler reads. The generated
 * ToFunction_InvocationBatchRequest fits this shape, and so does what decodeInvocationBatch
 * returns, so the handler reads either the same way.
 */
export interface WireAddress {
  readonly namespace: string;
  readonly type: string;
  readonly id: string;
}

export interface WireTypedValue {
  readonly typename: string;
  readonly hasValue: boolean;
  readonly value: Uint8Array;
}

export interface InvocationBatch {
  readonly target?: WireAddress | undefined;
  readonly state: ReadonlyArray<{
    readonly stateName: string;
    readonly stateValue?: WireTypedValue | undefined;
  }>;
  readonly invocations: ReadonlyArray<{
    readonly caller?: WireAddress | undefined;
    readonly argument?: WireTypedValue | undefined;
  }>;
}
