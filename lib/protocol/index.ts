/** The wire protocol shared by the browser and the relay. */
export * from './close-codes';
export * from './codec';
export * from './errors';
export * from './messages';
export * from './subprotocols';
