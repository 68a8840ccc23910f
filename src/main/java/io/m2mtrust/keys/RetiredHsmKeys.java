package io.m2mtrust.keys;

import java.util.Set;

/**
 * What a key-holding feature tells the key reconciler: the HSM labels of its keys that are retired or shredded
 * (their rows say so) and so must not exist on the token. A destroy that failed while the HSM was away is
 * finished by the reconciler; each feature answers for its own rows, the kernel reads no feature's table.
 */
public interface RetiredHsmKeys {

    Set<String> retiredLabels();
}
