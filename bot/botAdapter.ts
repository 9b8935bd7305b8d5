import { CloudAdapter, ConfigurationBotFrameworkAuthentication, StatusCodes } from 'botbuilder';
// CloudAdapter answers 401 only for this class, which botbuilder does not re-export.
import { AuthenticationError } from 'botframework-connector';
import type { BotSettings } from './botSettings';

// Taken from the constructor, which names botframework-connector's factory type.
type AuthConstructor = ConstructorParameters<typeof ConfigurationBotFrameworkAuthentication>;

/** Builds the bot's outbound credentials (botframework-connector's ServiceClientCredentialsFactory). */
export type CredentialsFactory = NonNullable<AuthConstructor[1]>;

/** What a caller may change about how the adapter authenticates; production passes nothing. */
export interface BotAdapterOverrides {
  /**
   * Extra ConfigurationBotFrameworkAuthentication keys laid over the bot settings, e.g. a
   * `ToBotFromChannelOpenIdMetadataUrl` for tests or a sovereign cloud. As soon as one of the cloud keys
   * (`ToChannelFromBotLoginUrl`, `ToChannelFromBotOAuthScope`, `ToBotFromChannelTokenIssuer`, `OAuthUrl`,
   * `ToBotFromChannelOpenIdMetadataUrl`, `ToBotFromEmulatorOpenIdMetadataUrl`, `CallerId`) is present, the
   * library stops filling in the public-cloud defaults, so all of them must be given.
   */
  authOptions?: Record<string, string>;
  /** Replaces the credentials the bot gets from its app id and password for its replies to the channel. */
  credentialsFactory?: CredentialsFactory;
}

/**
 * The Bot Framework adapter: with an app id it accepts only requests carrying a Bot Framework token for that id
 * and signs its replies; without one it runs unauthenticated. Error handling (`onTurnError`) is the caller's.
 */
export function createBotAdapter(settings: BotSettings, overrides: BotAdapterOverrides = {}): CloudAdapter {
  const auth = new ConfigurationBotFrameworkAuthentication(
    { ...settings.auth, ...overrides.authOptions },
    overrides.credentialsFactory,
  );
  const authenticate = auth.authenticateRequest.bind(auth);
  auth.authenticateRequest = async (activity, authHeader) => {
    try {
      return await authenticate(activity, authHeader);
    } catch (err) {
      throw asUnauthorized(err);
    }
  };
  return new CloudAdapter(auth);
}

/** Errors the token library throws for a token that fails verification. */
const TOKEN_ERRORS = new Set(['JsonWebTokenError', 'NotBeforeError', 'TokenExpiredError']);

/**
 * botframework-connector 4.23 lets the token library's own errors through for a forged signature or a token
 * that is not valid yet, and CloudAdapter answers anything but its own AuthenticationError with 500 and the
 * library's message. A request whose token does not verify is unauthorised: answer 401, and say nothing about
 * why.
 */
function asUnauthorized(err: unknown): unknown {
  const name = (err as { name?: unknown } | null)?.name;
  if (typeof name === 'string' && TOKEN_ERRORS.has(name)) {
    return new AuthenticationError(
      'Unauthorized: the request token could not be verified.',
      StatusCodes.UNAUTHORIZED,
    );
  }
  return err;
}
