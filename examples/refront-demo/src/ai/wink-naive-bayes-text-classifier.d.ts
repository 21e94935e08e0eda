// Types of the parts of wink-naive-bayes-text-classifier (a CommonJS package without its own) used here.
declare module 'wink-naive-bayes-text-classifier' {
  interface NaiveBayesTextClassifier {
    defineConfig(config: { considerOnlyPresence?: boolean; smoothingFactor?: number }): boolean;
    /** Without prep tasks, inputs are token arrays. */
    learn(tokens: string[], label: string): boolean;
    consolidate(): boolean;
    /** Labels with their log2 odds, best first; `[['unknown', 0]]` when no token is known. */
    computeOdds(tokens: string[]): [string, number][];
    stats(): {
      labelWiseSamples: Record<string, number>;
      labelWiseWords: Record<string, number>;
      vocabulary: number;
    };
  }
  function naiveBayesTextClassifier(): NaiveBayesTextClassifier;
  export default naiveBayesTextClassifier;
}
