/** kafkasim's version (kept equal to package.json's by a test); written into every trace header. */
export const VERSION = "0.1.0";
