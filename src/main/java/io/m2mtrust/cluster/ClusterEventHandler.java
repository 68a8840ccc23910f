package io.m2mtrust.cluster;

/**
 * Receives one kind of {@link ClusterEvents cluster event} that another replica committed, and learns when this
 * replica's link to the others is lost. Runs on the link's thread: it drops what it cached and returns at once.
 */
public interface ClusterEventHandler {

    /** The kind this handler takes, as given to {@link ClusterEvents#publish}. */
    String kind();

    /** Another replica committed this event; {@code payload} is what it published. */
    void onRemote(String payload);

    /**
     * This replica may have missed events (its link to PostgreSQL broke): drop everything that another replica's
     * change could have made stale. Caches stay bypassed until the link is back ({@link ClusterLink#cachesTrusted}).
     */
    void onLinkLost();
}
