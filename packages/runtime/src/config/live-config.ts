import type {
  FunctionEndpoint,
  FunctionRouter,
  LoadedComponent,
  ModuleConfig,
  ResolvedEndpoint,
} from "./model.js";

/**
 * The module configuration a running runtime serves, replaceable in one step
 * (`switchboard dev` reloads). Everything that routes holds this object, never a snapshot,
 * so a swap is seen by the dispatcher, the invokers and the admin API at the same moment.
 */
export class LiveConfig implements ModuleConfig {
  readonly router: FunctionRouter;

  constructor(private current: ModuleConfig) {
    this.router = {
      tryResolve: (typename: string): ResolvedEndpoint | undefined =>
        this.current.router.tryResolve(typename),
      resolve: (typename: string): ResolvedEndpoint => this.current.router.resolve(typename),
    };
  }

  get endpoints(): readonly FunctionEndpoint[] {
    return this.current.endpoints;
  }

  get components(): readonly LoadedComponent[] {
    return this.current.components;
  }

  /** The configuration as last loaded (its own router, not the live one). */
  get snapshot(): ModuleConfig {
    return this.current;
  }

  replace(next: ModuleConfig): void {
    this.current = next;
  }
}
