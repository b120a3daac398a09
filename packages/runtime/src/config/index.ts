/** Module configuration: public surface. */
export { type ComponentKind, ComponentRegistry, defaultRegistry } from "./component-registry.js";
export { parseDuration } from "./duration.js";
export { formatDiagnostic, type LoadResult, loadModules, loadModuleText } from "./load-modules.js";
export type * from "./model.js";
export { transportDefaults } from "./transport-defaults.js";
