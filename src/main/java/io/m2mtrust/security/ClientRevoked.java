package io.m2mtrust.security;

/**
 * One client registration with the MEF or MAF revoked by an admin (its registration, Km and registered keys are
 * gone with it): the ESCertKE keys established with the client's identity stop being usable too.
 */
public record ClientRevoked(String tenantId, String registrar, String regId, String clientId) implements Revocation {}
