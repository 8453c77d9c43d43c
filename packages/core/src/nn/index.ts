export * from './module.js';
export * from './init.js';
export * from './ops.js';
export * from './layers.js';
export * from './conv.js';
export * from './attention.js';
export * from './optim.js';
export * from './arena.js';
