/** An import file that is refused before anything is written: broken, hostile or of another format. */
export class ImportRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportRefused';
  }
}
