// Errors a user can fix (bad flags, bad files) carry exit code 2; anything else is a bug or an
// environment failure and exits with 1. The CLI maps one to the other in a single place.

/** Bad usage or bad input: the message names the input and says what is wrong with it. */
export class InputError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}
