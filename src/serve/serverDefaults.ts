// Where `actlab serve` listens unless told otherwise (TensorBoard's port). A module of its own so
// that the flag table can name the defaults without loading the server and its chart libraries.
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 6006;
