/** The admission webhooks: mutate shorthands, validate what the controllers would only report later. */
export * from './admission.js';
export * from './configuration.js';
export * from './definition-source.js';
export * from './component-source.js';
export * from './handler.js';
export * from './metrics.js';
export * from './server.js';
export { CertificateReloader } from './certificate-reloader.js';
export { allHandlers, type WebhookDeps } from './handlers/index.js';
export * from './register.js';
export * from './local-certificates.js';
export * from './parameter-schemas.js';
export * from './start-deps.js';
