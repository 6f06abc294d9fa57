/** An error caused by the user's input (bad flag, bad file, unknown id): printed as one line, exit code 2. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
