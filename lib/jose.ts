/**
 * `jose`, loaded on first use: a gateway without JWT keys and a process that never signs a
 * customer token never load its ~80 modules (decision 0015). Every use goes through this one
 * accessor so the laziness is kept in one place.
 */
export const jose = (): typeof import('jose') => require('jose') as typeof import('jose');
