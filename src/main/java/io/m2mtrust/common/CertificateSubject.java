package io.m2mtrust.common;

/** The identity a certificate is issued for: its flavour (TS-0003 §10.1.1) and the identifier. */
public record CertificateSubject(SubjectType type, String id) {}
