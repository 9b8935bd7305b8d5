import { isAppError } from '../../services/errors';
import { loadConfig, loadNluEngine } from '../../services/config';
import { createRecognizer } from '../../services/understanding/createRecognizer';
import { sharedNlpjsRecognizer } from '../../services/understanding/nlpjsRecognizer';

describe('NLU_ENGINE', () => {
  it.each<[NodeJS.ProcessEnv]>([
    [{}],
    [{ NLU_ENGINE: '' }],
    [{ NLU_ENGINE: 'local' }],
    [{ NLU_ENGINE: ' LOCAL ' }],
  ])('picks the local engine for %j', (env) => {
    expect(loadConfig(env).nluEngine).toBe('local');
    expect(loadNluEngine(env)).toBe('local');
  });

  it('rejects an engine it does not have, naming the setting', () => {
    let thrown: unknown;
    try {
      loadNluEngine({ NLU_ENGINE: 'clu', MAX_FILE_SIZE: 'abc' });
    } catch (err) {
      thrown = err;
    }
    expect(isAppError(thrown, 'config-invalid')).toBe(true);
    expect((thrown as Error).message).toMatch(
      /^Invalid configuration:\n {2}NLU_ENGINE: must be one of: local$/,
    );
  });
});

describe('createRecognizer', () => {
  it('gives the shared local NLP.js recognizer for NLU_ENGINE=local', async () => {
    const recognizer = await createRecognizer({ nluEngine: 'local' });
    expect(recognizer.engine).toBe('local');
    expect(recognizer).toBe(await sharedNlpjsRecognizer());
    expect((await recognizer.recognize('cancel')).intent).toBe('cancel');
  }, 30_000);
});
