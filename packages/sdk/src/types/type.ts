/** How a value of type T is named and carried: the typename plus its byte encoding. */
export interface Type<T> {
  readonly typename: string;
  serialize(value: T): Uint8Array;
  deserialize(bytes: Uint8Array): T;
}
