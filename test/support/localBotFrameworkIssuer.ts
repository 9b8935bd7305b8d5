import http from 'node:http';
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ConfigurationServiceClientCredentialFactory } from 'botbuilder';

/** The issuer of the tokens Bot Framework channels send to bots (public cloud). */
export const BOT_FRAMEWORK_ISSUER = 'https://api.botframework.com';

/**
 * The public-cloud values botframework-connector uses by default (its AuthenticationConstants, which botbuilder
 * does not re-export). They are spelled out because naming any one cloud key makes the library expect all of them.
 */
const PUBLIC_CLOUD = {
  ToChannelFromBotLoginUrl: 'https://login.microsoftonline.com/botframework.com',
  ToChannelFromBotOAuthScope: 'https://api.botframework.com',
  ToBotFromChannelTokenIssuer: BOT_FRAMEWORK_ISSUER,
  OAuthUrl: 'https://api.botframework.com',
  CallerId: 'urn:botframework:azure',
};

/** How to deviate from a well-formed channel token. */
export interface TokenOptions {
  /** Claims added to or replacing the defaults; `undefined` removes a claim. */
  claims?: Record<string, unknown>;
  /** Signs with this key instead of the published one, as a forger would. */
  signingKey?: KeyObject;
  /** The key id named in the header; the published key's id by default. */
  kid?: string;
}

/** A stand-in for login.botframework.com on loopback: publishes a signing key and issues channel tokens. */
export interface LocalBotFrameworkIssuer {
  /** ConfigurationBotFrameworkAuthentication keys: public-cloud values, but signing keys are fetched from here. */
  authOptions: Record<string, string>;
  /** Where the OpenID metadata and the signing keys are served. */
  paths: { metadata: string; keys: string };
  /** Paths requested from this issuer, to show the bot fetched its keys here. */
  requests: string[];
  /** A token as a channel sends it to the bot `audience` for activities whose serviceUrl is `serviceUrl`. */
  issueToken(audience: string, serviceUrl: string, options?: TokenOptions): string;
  close(): Promise<void>;
}

/** A fresh RSA key, e.g. one the bot has never been told about. */
export function generateSigningKey(): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/**
 * Starts the issuer on 127.0.0.1. `endorsements` lists the channels its key may vouch for; the bot refuses
 * activities from other channels.
 */
export async function startLocalBotFrameworkIssuer(
  options: { endorsements?: string[] } = {},
): Promise<LocalBotFrameworkIssuer> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwk = publicKey.export({ format: 'jwk' });
  const requests: string[] = [];
  let baseUrl = '';
  // botframework-connector caches signing keys per metadata URL for the whole process, so each issuer needs
  // URLs of its own even if the OS hands out a port again.
  const prefix = `/${randomUUID()}`;
  const metadataPath = `${prefix}/v1/.well-known/openidconfiguration`;
  const keysPath = `${prefix}/v1/.well-known/keys`;

  const server = http.createServer((req, res) => {
    const path = req.url ?? '';
    requests.push(path);
    const documents: Record<string, unknown> = {
      [metadataPath]: {
        issuer: BOT_FRAMEWORK_ISSUER,
        jwks_uri: `${baseUrl}${keysPath}`,
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
      },
      [keysPath]: {
        keys: [
          {
            kty: 'RSA',
            use: 'sig',
            kid,
            n: jwk.n,
            e: jwk.e,
            endorsements: options.endorsements ?? ['webchat', 'msteams'],
          },
        ],
      },
    };
    const document = req.method === 'GET' ? documents[path] : undefined;
    res.writeHead(document ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(document ?? { error: 'not found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    authOptions: {
      ...PUBLIC_CLOUD,
      ToBotFromChannelOpenIdMetadataUrl: `${baseUrl}${metadataPath}`,
      // Emulator tokens are not used here; pointing it at loopback keeps any validation path off the network.
      ToBotFromEmulatorOpenIdMetadataUrl: `${baseUrl}${metadataPath}`,
    },
    paths: { metadata: metadataPath, keys: keysPath },
    requests,
    issueToken(audience, serviceUrl, tokenOptions = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload = Object.fromEntries(
        Object.entries({
          iss: BOT_FRAMEWORK_ISSUER,
          aud: audience,
          serviceurl: serviceUrl,
          iat: now,
          nbf: now - 60,
          exp: now + 3600,
          ...tokenOptions.claims,
        }).filter(([, value]) => value !== undefined),
      );
      const header = { alg: 'RS256', kid: tokenOptions.kid ?? kid, typ: 'JWT' };
      const signed = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
      // RS256 is RSASSA-PKCS1-v1_5 with SHA-256, which is what node:crypto does with an RSA key.
      const signature = sign('sha256', Buffer.from(signed), tokenOptions.signingKey ?? privateKey);
      return `${signed}.${base64url(signature)}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type FactoryOptions = ConstructorParameters<typeof ConfigurationServiceClientCredentialFactory>[0];
type Credentials = Awaited<ReturnType<ConfigurationServiceClientCredentialFactory['createCredentials']>>;
type OutgoingRequest = Parameters<Credentials['signRequest']>[0];

/**
 * The bot's outbound credentials with a fixed token. Getting a real one means MSAL calling
 * login.microsoftonline.com over https, which tests cannot reach. Everything else, including which app ids
 * count as the bot's own when inbound tokens are checked, is the production factory's.
 */
export class FixedTokenCredentialsFactory extends ConfigurationServiceClientCredentialFactory {
  /** What the bot asked credentials for: its app id, the audience and the login endpoint. */
  readonly requests: Array<{ appId: string; audience: string; loginEndpoint: string }> = [];

  constructor(
    options: FactoryOptions,
    /** The bearer token every outbound request carries. */
    readonly token: string,
  ) {
    super(options);
  }

  override async createCredentials(
    appId: string,
    audience: string,
    loginEndpoint: string,
  ): Promise<Credentials> {
    // The production factory refuses credentials for an app id that is not the bot's; so does this one.
    if (!(await this.isValidAppId(appId))) throw new Error(`Invalid appId: ${appId}`);
    this.requests.push({ appId, audience, loginEndpoint });
    return {
      signRequest: async (request: OutgoingRequest) => {
        request.headers.set('authorization', `Bearer ${this.token}`);
        return request;
      },
    };
  }
}
