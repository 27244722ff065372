/**
 * GraphQL's errors: what a client gets back in the answer's `errors` array. A query
 * that does not parse, names what the schema lacks or exceeds a limit is refused as a
 * whole; a field that fails is null with an error naming its path. None is a 500.
 */
import { PsiwebError } from '../../errors.ts';

export interface SourceLocation {
  line: number;
  column: number;
}

/** One entry of the answer's `errors` array (GraphQL spec §7.1.2). */
export interface GraphqlErrorJson {
  message: string;
  locations?: SourceLocation[];
  path?: (string | number)[];
}

export class GraphqlError extends PsiwebError {
  override name = 'GraphqlError';
  locations: SourceLocation[] | undefined;
  path: (string | number)[] | undefined;

  constructor(message: string, options: { locations?: SourceLocation[]; path?: (string | number)[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.locations = options.locations;
    this.path = options.path;
  }

  toJSON(): GraphqlErrorJson {
    const out: GraphqlErrorJson = { message: this.message };
    if (this.locations?.length) out.locations = this.locations;
    if (this.path) out.path = this.path;
    return out;
  }
}

/** The query text is not GraphQL (GraphQL spec §2). */
export class GraphqlSyntaxError extends GraphqlError {
  override name = 'GraphqlSyntaxError';
}

/** The query asks for what the schema does not have, or with the wrong arguments (§5). */
export class GraphqlValidationError extends GraphqlError {
  override name = 'GraphqlValidationError';
}

/** The query is too long, too deep or too costly for this node to answer. */
export class GraphqlLimitError extends GraphqlError {
  override name = 'GraphqlLimitError';
}
