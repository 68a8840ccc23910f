package io.m2mtrust.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.common.SecretBytes;
import org.junit.jupiter.api.Test;

import java.util.Map;

class SecretBytesTest {

    private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes();

    @Test
    void toString_and_json_never_show_the_bytes() throws Exception {
        SecretBytes s = SecretBytes.copyOf(KEY);
        assertThat(s.toString()).isEqualTo("SecretBytes[redacted, 32 bytes]");
        String json = new ObjectMapper().writeValueAsString(Map.of("k", s));
        assertThat(json).isEqualTo("{\"k\":\"[redacted]\"}").doesNotContain("0123");
        assertThat(String.format("%s", s)).doesNotContain("0123");
    }

    @Test
    void close_zeroises_and_later_use_fails() {
        byte[] owned = KEY.clone();
        SecretBytes s = SecretBytes.adopt(owned);
        s.close();
        assertThat(owned).containsOnly(0);
        assertThat(s.isDestroyed()).isTrue();
        assertThatThrownBy(s::copy).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void comparison_is_by_content_only_through_equalsSecret() {
        SecretBytes a = SecretBytes.copyOf(KEY);
        SecretBytes b = SecretBytes.copyOf(KEY);
        assertThat(a.equalsSecret(b)).isTrue();
        assertThat(a).isNotEqualTo(b);
        assertThatThrownBy(() -> SecretBytes.copyOf(new byte[0])).isInstanceOf(IllegalArgumentException.class);
    }
}
