"""Writers of the Mongo store and the Redis facet index, used by the stream processors and the site."""
